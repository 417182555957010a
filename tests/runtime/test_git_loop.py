"""The real reconciler following a real Git remote (bare repo, pushes from a clone) with the fake
Flink world: parsing only what changed, invalid files, vanished branches and unreachable remotes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.fakes import FakeWorld, fake_world
from support.gitrepos import Remote, run_git
from support.passes import app

from gitflink.adapters.git_source import GitSource
from gitflink.core.reporting.conditions import SOURCE
from gitflink.model.errors import SourceError
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.status import ConditionStatus, LifecycleState, ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

NAMES = ("orders", "clicks", "views")


def rid(name: str) -> ResourceId:
    return ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", name)


class Loop:
    """One agent's view: a GitSource on the remote, the fake Flink world, one long-lived config."""

    def __init__(self, remote: Remote, cache: Path, ref: str | None = None) -> None:
        self.world: FakeWorld = fake_world()
        self.source = GitSource(remote.url, cache_dir=cache, ref=ref)
        self.config = PassConfig(roots=("apps",), max_workers=2)

    @property
    def ports(self) -> Ports:
        w = self.world
        return Ports(self.source, w.runtime, w.runtime.api, w.store, w.clock)

    def run(self) -> PassResult:
        return run_pass(self.ports, self.config)

    def status(self, name: str) -> ResourceStatus:
        status = self.world.store.load(rid(name))
        assert status is not None, name
        return status

    def flink_calls(self) -> list[tuple[str, ...]]:
        return [e for e in self.world.journal.events if e[0] in ("flink", "runtime")]


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    r = Remote(tmp_path)
    r.commit({f"apps/{n}.yaml": app(n).decode() for n in NAMES} | {"README.md": "hi\n"})
    r.push()
    return r


@pytest.fixture
def loop(remote: Remote, tmp_path: Path) -> Loop:
    agent = Loop(remote, tmp_path / "cache")
    first = agent.run()
    assert first.ok, first
    assert agent.config.reader.parses == len(NAMES)
    return agent


def test_pass_at_an_unchanged_revision_lists_and_parses_nothing(loop: Loop) -> None:
    parses, listings = loop.config.reader.parses, loop.config.reader.listings
    calls, saves = len(loop.flink_calls()), len(loop.world.store.saves)
    loop.run()
    again = loop.run()
    assert again.ok
    assert (loop.config.reader.parses, loop.config.reader.listings) == (parses, listings)
    assert [e.action.value for e in again.executions] == ["none"] * len(NAMES)
    assert len(loop.flink_calls()) == calls
    assert len(loop.world.store.saves) == saves


def test_a_job_state_change_without_a_commit_is_planned_again_without_parsing(
    loop: Loop,
) -> None:
    loop.run()
    parses = loop.config.reader.parses
    api = loop.world.runtime.api_for(rid("views"))
    api.jobs[job_id_for(rid("views"), 1)].state = "FAILED"
    loop.run()
    assert loop.config.reader.parses == parses
    status = loop.world.store.load(rid("views"))
    assert status is not None and status.job_status.state == "FAILED"


def test_one_changed_file_is_the_only_file_parsed_and_is_upgraded(
    loop: Loop, remote: Remote
) -> None:
    parses = loop.config.reader.parses
    remote.commit({"apps/clicks.yaml": app("clicks", rate=42).decode()})
    remote.push()
    result = loop.run()
    assert result.ok
    assert loop.config.reader.parses == parses + 1
    changed = {e.resource.name: e.action.value for e in result.executions}
    assert changed == {"orders": "none", "clicks": "upgrade", "views": "none"}
    [job] = loop.world.runtime.api_for(rid("clicks")).running_jobs()
    assert job.args == ("--rate", "42")


def test_force_push_to_unrelated_history_reparses_only_files_whose_bytes_changed(
    loop: Loop, remote: Remote
) -> None:
    parses = loop.config.reader.parses
    rewritten = remote.orphan(
        {
            "apps/orders.yaml": app("orders").decode(),
            "apps/clicks.yaml": app("clicks").decode(),
            "apps/views.yaml": app("views", parallelism=3).decode(),
        }
    )
    remote.push(force=True)
    result = loop.run()
    assert result.ok and result.revision is not None and result.revision.sha == rewritten
    assert loop.config.reader.parses == parses + 1
    assert loop.status("views").applied_revision == rewritten


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(app("clicks", parallelism=0).decode(), id="schema-error"),
        pytest.param(app("clicks").decode() + "  oops: [unclosed\n", id="yaml-syntax-error"),
    ],
)
def test_invalid_file_among_valid_ones_stalls_only_its_own_resource(
    loop: Loop, remote: Remote, broken: str
) -> None:
    clicks_job = job_id_for(rid("clicks"), 1)
    remote.commit({"apps/clicks.yaml": broken, "apps/orders.yaml": app("orders", rate=7).decode()})
    remote.push()
    before = len(loop.world.journal.events)
    result = loop.run()

    assert not result.ok
    assert any(p.is_error and p.file == "apps/clicks.yaml" for p in result.problems)
    clicks = loop.status("clicks")
    assert clicks.error and "apps/clicks.yaml" in clicks.error
    ready = next(c for c in clicks.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == (ConditionStatus.FALSE, "invalid")
    # The last good deployment of clicks keeps running: nothing stopped, cancelled or deleted.
    new_events = loop.world.journal.events[before:]
    assert not [e for e in new_events if e[0] == "flink" and e[2] == clicks_job]
    assert ("runtime", "delete_cluster", str(rid("clicks"))) not in new_events
    [running] = loop.world.runtime.api_for(rid("clicks")).running_jobs()
    assert running.job_id == clicks_job
    # The others reconcile: orders is upgraded, views is left alone.
    actions = {e.resource.name: (e.action.value, e.ok) for e in result.executions}
    assert actions["orders"] == ("upgrade", True)
    assert actions["views"] == ("none", True)
    assert "clicks" not in actions
    [orders_job] = loop.world.runtime.api_for(rid("orders")).running_jobs()
    assert orders_job.args == ("--rate", "7")


def _assert_source_down_leaves_everything_running(loop: Loop, match: str) -> None:
    calls, before = len(loop.flink_calls()), loop.config.reader.parses
    result = loop.run()
    assert isinstance(result.source_error, SourceError)
    assert result.error is not None and match in result.error
    assert result.plan is None and result.executions == ()
    assert len(loop.flink_calls()) == calls, "a pass without Git must not touch Flink"
    assert loop.config.reader.parses == before
    for name in NAMES:
        status = loop.status(name)
        source = next(c for c in status.conditions if c.type == SOURCE)
        assert source.status is ConditionStatus.FALSE and match in source.message
        assert status.error is not None and match in status.error
        assert status.lifecycle_state is LifecycleState.STABLE
        assert len(loop.world.runtime.api_for(rid(name)).running_jobs()) == 1
    saves = len(loop.world.store.saves)
    loop.run()
    assert len(loop.world.store.saves) == saves, "a continuing outage writes no new status"


def test_vanished_branch_is_a_source_error_in_status_and_nothing_running_is_touched(
    remote: Remote, tmp_path: Path
) -> None:
    remote.push("main:release")
    agent = Loop(remote, tmp_path / "cache", ref="release")
    assert agent.run().ok
    run_git(remote.work, "push", "-q", "origin", "--delete", "release")
    _assert_source_down_leaves_everything_running(agent, "'release' not found")

    remote.push("main:release")
    assert agent.run().ok
    for name in NAMES:
        status = agent.status(name)
        source = next(c for c in status.conditions if c.type == SOURCE)
        assert source.status is ConditionStatus.TRUE
        assert status.error is None


def test_unreachable_remote_is_a_source_error_in_status_and_nothing_running_is_touched(
    loop: Loop, remote: Remote, tmp_path: Path
) -> None:
    shutil.move(remote.bare, tmp_path / "elsewhere.git")
    _assert_source_down_leaves_everything_running(loop, "ls-remote")


def test_after_a_restart_a_file_that_no_longer_parses_deletes_nothing(
    loop: Loop, remote: Remote
) -> None:
    loop.config = PassConfig(roots=("apps",))  # a new process: the reader remembers nothing
    remote.commit({"apps/clicks.yaml": "kind: FlinkDeployment\nmetadata: {name: [\n"})
    remote.push()
    before = len(loop.world.journal.events)
    result = loop.run()
    assert not result.ok
    assert result.plan is not None and result.plan.notes
    new_events = loop.world.journal.events[before:]
    assert not [e for e in new_events if e[0] in ("flink", "runtime")]
    for name in NAMES:
        assert len(loop.world.runtime.api_for(rid(name)).running_jobs()) == 1
