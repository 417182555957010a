"""A rollback requested in an agent's status branch (`gitflink rollback --status-repo`, which
records the pin and leaves Flink alone) is carried out by the agent's next pass, and a pass that
read the status before the request arrived never overwrites it (docs/rollback.md). Whole passes
on the fakes, a real bare Git repository as the status branch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.fakes import FakeWorld, fake_world
from support.gitrepos import run_git
from support.passes import ORDERS, app

from gitflink.adapters.status_git import GitStatusStore
from gitflink.core.restore_points import savepoint_for
from gitflink.model.errors import GitflinkError
from gitflink.model.fingerprints import spec_digest
from gitflink.model.plan import Action
from gitflink.model.rollback import Rollback
from gitflink.model.status import LifecycleState, ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassResult, run_pass

FILE = "streaming/orders.yaml"


def store(tmp_path: Path, name: str) -> GitStatusStore:
    bare = tmp_path / "status.git"
    if not bare.exists():
        run_git(tmp_path, "init", "-q", "--bare", str(bare))
    return GitStatusStore(bare.as_uri(), cache_dir=tmp_path / name, sleep=lambda _: None)


def agent_pass(ports: Ports, branch: GitStatusStore) -> PassResult:
    result = run_pass(ports)
    branch.flush()  # as the agent does after each pass
    assert result.ok, result
    return result


def loaded(branch: GitStatusStore) -> ResourceStatus:
    status = branch.load(ORDERS)
    assert status is not None
    return status


def upgraded(tmp_path: Path) -> tuple[FakeWorld, Ports, GitStatusStore, Rollback]:
    """orders deployed at a first revision, upgraded at a second through a savepoint; and the
    pin `gitflink rollback --to FIRST` records."""
    world = fake_world({FILE: app("orders", rate=400)})
    branch = store(tmp_path, "agent")
    ports = replace(world.ports, status=branch)
    first = agent_pass(ports, branch).revision
    assert first is not None
    spec = loaded(branch).reconciliation.last_applied_spec
    head = world.source.commit({FILE: app("orders", rate=800)})
    assert agent_pass(ports, branch).plan.for_resource(ORDERS).action is Action.UPGRADE  # type: ignore[union-attr]
    status = loaded(branch)
    savepoint = savepoint_for(status, first.sha)
    assert savepoint is not None
    record = Rollback(
        git_digest=spec_digest(status.reconciliation.last_applied_spec),
        git_revision=head.sha,
        reason=f"gitflink rollback --to {first.short}",
        at=datetime.now(UTC),
        manual=True,
        to_revision=first.sha,
        spec=spec,
        restore_point=savepoint.path,
    )
    return world, ports, branch, record


def pin(record: Rollback) -> Callable[[ResourceStatus | None], ResourceStatus]:
    def change(current: ResourceStatus | None) -> ResourceStatus:
        assert current is not None
        pinned = current.model_copy(deep=True)
        pinned.reconciliation.rollback = record
        return pinned

    return change


def commits(tmp_path: Path) -> list[str]:
    log = run_git(tmp_path / "status.git", "log", "--format=%s", "gitflink/status")
    return log.splitlines()


def test_the_agents_next_pass_carries_out_a_rollback_requested_in_its_status_branch(
    tmp_path: Path,
) -> None:
    world, ports, branch, record = upgraded(tmp_path)
    before = len(commits(tmp_path))
    cli = store(tmp_path, "cli")
    cli.update(ORDERS, pin(record), "streaming/orders rollback to 1234567 requested")
    assert commits(tmp_path)[0] == "gitflink: streaming/orders rollback to 1234567 requested"
    assert len(commits(tmp_path)) == before + 1  # one commit, nothing run
    assert branch.refresh()  # the agent sees the request before its pass
    result = agent_pass(ports, branch)
    job = result.plan.for_resource(ORDERS)  # type: ignore[union-attr]
    assert job is not None and job.action is Action.ROLLBACK
    status = loaded(branch)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    assert status.applied_revision == record.to_revision
    [running] = [j for j in world.runtime.api_for(ORDERS).jobs.values() if j.state == "RUNNING"]
    assert running.restored == record.restore_point
    assert running.args == ("--rate", "400")
    # Pinned: Git still asks for rate 800, which is not applied again.
    again = agent_pass(ports, branch).plan.for_resource(ORDERS)  # type: ignore[union-attr]
    assert again is not None and again.action is Action.NONE


def test_a_pass_that_read_the_status_before_the_request_keeps_it(tmp_path: Path) -> None:
    _, ports, branch, record = upgraded(tmp_path)
    mine = loaded(branch).model_copy(deep=True)  # the agent's pass read this, then ...
    store(tmp_path, "cli").update(ORDERS, pin(record), "rollback requested")
    mine.error = "seen by the agent's pass"
    branch.save(ORDERS, mine, "the agent's pass")  # ... saves what it found
    branch.flush()  # rejected (the request moved the branch), fetched, saved again on top
    kept = loaded(store(tmp_path, "reader"))
    assert kept.error == "seen by the agent's pass"
    assert kept.reconciliation.rollback is not None
    assert kept.reconciliation.rollback.to_revision == record.to_revision
    result = agent_pass(ports, branch)
    job = result.plan.for_resource(ORDERS)  # type: ignore[union-attr]
    assert job is not None and job.action is Action.ROLLBACK


def test_a_request_is_retried_on_the_new_tip_and_refused_by_its_change(tmp_path: Path) -> None:
    _, _, branch, record = upgraded(tmp_path)
    cli = store(tmp_path, "cli")
    seen: list[str | None] = []

    def racing(current: ResourceStatus | None) -> ResourceStatus:
        assert current is not None
        seen.append(current.error)
        if len(seen) == 1:  # the agent pushes between our read and our push
            moved = current.model_copy(deep=True)
            moved.error = "pushed by the agent"
            branch.save(ORDERS, moved, "agent")
            branch.flush()
        return pin(record)(current)

    cli.update(ORDERS, racing, "rollback requested")
    assert seen == [None, "pushed by the agent"]  # called again on the new tip
    kept = loaded(store(tmp_path, "reader"))
    assert kept.error == "pushed by the agent" and kept.reconciliation.rollback == record

    def refuse(current: ResourceStatus | None) -> ResourceStatus:
        raise GitflinkError("in the middle of a change")

    count = len(commits(tmp_path))
    with pytest.raises(GitflinkError):
        cli.update(ORDERS, refuse, "refused")
    assert len(commits(tmp_path)) == count
