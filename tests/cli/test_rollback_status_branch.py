"""`gitflink rollback` against an agent's status branch: the plan is shown and asked for as
with status files, then the pin is recorded as one commit on the status branch and nothing is
run here (the agent carries it out: tests/runtime/test_rollback_requests.py, and on real Flink
tests/flink/test_rollback_agent_flink.py). Real Git repositories."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from support.gitrepos import run_git
from test_plan_cli_scenarios import commit
from test_plan_deployed import ORDERS, deployed, run
from test_rollback_cli import V1, V2, spec

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.cli import waiting
from gitflink.model.plan import Action
from gitflink.model.status import LifecycleState, PendingChange, Snapshot


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, str, str]:
    """(repository, status branch URL, first revision): V2 deployed by an agent, with the
    savepoint of V1's job recorded."""
    root = tmp_path / "repo"
    root.mkdir()
    run_git(root, "init", "-q")
    first = commit(root, [V1], "v1")
    commit(root, [V2], "v2")
    deployed(tmp_path / "seed", V2, state="RUNNING")
    status = FileStatusStore(tmp_path / "seed").load(ORDERS)
    assert status is not None
    status.job_status.savepoint_history = [Snapshot(path="file:///sp/one", revision=first)]
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    agent = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "agent")
    agent.save(ORDERS, status, "deployed")
    agent.flush()
    return root, bare.as_uri(), first


def subjects(url: str) -> list[str]:
    return run_git(
        Path(url.removeprefix("file://")), "log", "--format=%s", "gitflink/status"
    ).split("\n")


def rollback(tmp_path: Path, root: Path, url: str, *extra: str) -> tuple[int, str]:
    argv = ["rollback", "orders", "--repo", str(root), "--status-repo", url]
    argv += ["--cache-dir", str(tmp_path / "cli"), "--data-dir", str(tmp_path / "data"), *extra]
    return run(*argv)


def test_the_pin_is_one_commit_on_the_status_branch_and_nothing_runs_here(
    tmp_path: Path, repos: tuple[Path, str, str]
) -> None:
    root, url, first = repos
    code, text = rollback(tmp_path, root, url, "--to", first[:8], "--yes")
    assert code == 0, text
    assert ": rollback" in text and "restoring from file:///sp/one" in text, text
    assert "the agent carries it out on its next pass" in text
    [request, deployed] = subjects(url)
    assert request == f"gitflink: streaming/orders rollback to {first[:7]} requested"
    assert deployed.startswith("gitflink: streaming/orders")
    status = GitStatusStore(url, cache_dir=tmp_path / "reader").load(ORDERS)
    assert status is not None
    pin = status.reconciliation.rollback
    assert pin is not None and pin.manual and pin.to_revision == first
    assert pin.restore_point == "file:///sp/one" and pin.spec == spec(V1)
    assert status.job_status.job_id == "a" * 32  # what runs is the agent's to change
    assert not (tmp_path / "data").exists()  # no cluster, no status file here


def test_nothing_is_recorded_unasked_or_while_the_agent_is_in_a_change(
    tmp_path: Path,
    repos: tuple[Path, str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, url, first = repos
    before = subjects(url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: --yes is required
    assert rollback(tmp_path, root, url, "--to", first)[0] == 3
    assert subjects(url) == before
    agent = GitStatusStore(url, cache_dir=tmp_path / "agent")
    status = agent.load(ORDERS)
    assert status is not None
    status.pending = PendingChange(action=Action.UPGRADE, revision="f" * 40, target_spec=spec(V2))
    agent.save(ORDERS, status, "upgrade started")
    agent.flush()
    capsys.readouterr()
    assert rollback(tmp_path, root, url, "--to", first, "--yes")[0] == 1
    assert "in the middle of a change (upgrade)" in capsys.readouterr().err
    assert len(subjects(url)) == len(before) + 1


def test_wait_reports_a_rollback_not_done_in_time_and_tells_when_it_is(
    tmp_path: Path, repos: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, url, first = repos
    code, _ = rollback(tmp_path, root, url, "--to", first, "--yes", "--wait", "0")
    assert code == 1
    assert "recorded, not done within 0s" in capsys.readouterr().err
    status = GitStatusStore(url, cache_dir=tmp_path / "reader").load(ORDERS)
    assert status is not None and status.reconciliation.rollback is not None
    done = waiting.rolled_back(status.reconciliation.rollback)
    assert done(status) is None  # recorded, not carried out yet
    carried = status.model_copy(deep=True)
    carried.applied_revision = first
    carried.lifecycle_state = LifecycleState.ROLLED_BACK
    assert done(carried) == (True, f"rolled back: the spec of {first[:7]} runs")
    carried.reconciliation.rollback = None  # Git moved on: the pin was cleared
    said = done(carried)
    assert said is not None and not said[0]
