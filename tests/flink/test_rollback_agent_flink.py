"""`gitflink rollback` against an agent's status branch on real Flink (docs/rollback.md): the
command records the pin as one commit and touches no job; the agent's next pass, though Git
has not moved, restores the spec of that revision from the savepoint its job left, and keeps
it pinned while Git asks for the newer spec. Flink 1.20, clusters under the test's data dir."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from support.flink_fixtures import stop_everything
from support.gitrepos import Remote, run_git
from support.sync_flink_support import counter_gauge, flink_world, wait_counting
from test_recovery_flink import FAILING, manifest

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_git import GitStatusStore
from gitflink.cli import main
from gitflink.cli.agent import _Reconciling
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.model.status import LifecycleState, ResourceStatus
from gitflink.runtime.context import same_path
from gitflink.runtime.reconciler import PassResult
from gitflink.settings import Settings

pytestmark = [pytest.mark.flink, pytest.mark.slow]
RID = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "pinme")


def text(**changes: Any) -> str:
    return manifest("v1_20", "pinme", conf=FAILING["conf"], **changes).decode()


def test_the_agent_carries_out_a_rollback_recorded_on_its_status_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "git").mkdir()
    remote = Remote(tmp_path / "git")
    data = tmp_path / "data"
    settings = dataclasses.replace(
        Settings.from_env(),
        repo=remote.url,
        data_dir=data,
        stability_window_seconds=0.0,
        drift_interval_seconds=3600.0,  # a pass with Git unchanged stops after fetching
    )
    agent = _Reconciling(settings)
    reader = GitStatusStore(remote.url, cache_dir=tmp_path / "reader")

    def agent_pass() -> PassResult:
        result = agent()
        agent.flush()
        assert result.error is None and all(e.ok for e in result.executions), result
        return result

    def status() -> ResourceStatus:
        reader.refresh()
        found = reader.load(RID)
        assert found is not None
        return found

    def action(result: PassResult) -> Action | None:
        job = result.plan.for_resource(RID) if result.plan is not None else None
        return job.action if job is not None else None

    def commits() -> list[str]:
        return run_git(remote.bare, "log", "--format=%s", "gitflink/status").splitlines()

    args = FAILING["args"]
    try:
        first = remote.commit({"pinme.yaml": text(args=args)})
        remote.push()
        assert action(agent_pass()) is Action.DEPLOY
        world = flink_world(LocalRuntime(data, settings.cache_dir), data, {})
        job = status().job_status.job_id
        assert job is not None
        wait_counting(world.api(RID), job, 300)
        remote.commit({"pinme.yaml": text(args=[*args, "--print-every", "500"])})
        remote.push()
        assert action(agent_pass()) is Action.UPGRADE  # its savepoint is of `first`'s job
        savepoint = status().job_status.last_savepoint
        assert savepoint is not None and savepoint.revision == first
        agent_pass()  # converged: the next pass would stop after fetching
        [upgraded] = world.running_jobs(RID)
        # A remote names a revision by its full id (a local clone takes any git can resolve).
        common = ["rollback", "pinme", "--to", first, "--repo", remote.url]
        common += ["--status-branch", "gitflink/status", "--cache-dir", str(tmp_path / "cli")]
        monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: asks for --yes
        assert main(common) == 3
        before = commits()
        assert main([*common, "--yes"]) == 0
        assert commits() == [f"gitflink: it/pinme rollback to {first[:7]} requested", *before]
        pin = status().reconciliation.rollback
        assert pin is not None and pin.manual and same_path(pin.restore_point or "", savepoint.path)
        assert world.running_jobs(RID) == [upgraded]  # the command ran nothing
        assert action(agent_pass()) is Action.ROLLBACK
        done = status()
        assert done.lifecycle_state is LifecycleState.ROLLED_BACK
        assert done.applied_revision == first
        [restored] = world.running_jobs(RID)
        api = world.api(RID)
        assert same_path(api.checkpoints(restored).restored, savepoint.path)
        wait_counting(api, restored, 1)
        start = counter_gauge(api, restored, "startCount")
        assert start is not None and start > 1, "the counter started again from zero"
        assert action(agent_pass()) is not Action.UPGRADE  # pinned: Git's spec not applied
        assert world.running_jobs(RID) == [restored]
    finally:
        stop_everything(data)
