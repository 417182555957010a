"""Rollback on real Flink (docs/rollback.md): an upgrade whose job fails within the stability
window is rolled back to the last stable spec from the savepoint the upgrade started from; the
rejected spec is not tried again, the next commit is. One Flink version, short timeouts."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.flink_fixtures import stop_everything, wait_for
from support.gitrepos import Remote
from support.sync_flink_support import FlinkWorld, counter_gauge, flink_world, wait_counting
from test_recovery_flink import FAILING, failing_args, manifest, plan_of

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.cli import main
from gitflink.core.planning import Healing
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.model.status import LifecycleState
from gitflink.runtime.context import same_path
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.settings import Settings

pytestmark = [pytest.mark.flink, pytest.mark.slow]
VERSION = "v1_20"
WINDOW = 3.0  # seconds a changed job is watched (GITFLINK_STABILITY_WINDOW)
ROLLBACK = {"kubernetes.operator.deployment.rollback.enabled": "true", **FAILING["conf"]}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[FlinkWorld]:
    runtime = LocalRuntime(tmp_path, Settings.from_env().cache_dir, ready_timeout=120.0)
    try:
        yield flink_world(runtime, tmp_path, {})
    finally:
        stop_everything(tmp_path)


def sync(world: FlinkWorld) -> PassResult:
    config = PassConfig(max_workers=2, healing=Healing(backoff_first=0.0), stable_after=WINDOW)
    result = run_pass(world.ports, config)
    assert result.error is None, result.error
    return result


def commit(world: FlinkWorld, name: str, **changes: Any) -> None:
    world.commit({f"{name}.yaml": manifest(VERSION, name, **changes)})


def test_a_failing_upgrade_is_rolled_back_and_its_spec_not_tried_again(world: FlinkWorld) -> None:
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "rollme")
    commit(world, "rollme", args=FAILING["args"], conf=ROLLBACK)
    assert sync(world).ok
    assert world.status(rid).lifecycle_state is LifecycleState.DEPLOYED  # watched
    first = world.status(rid).job_status.job_id
    assert first is not None
    wait_counting(world.api(rid), first, 500)
    time.sleep(WINDOW)
    assert sync(world).ok
    stable = world.status(rid)
    assert stable.lifecycle_state is LifecycleState.STABLE
    assert stable.reconciliation.last_stable_spec == stable.reconciliation.last_applied_spec
    # The upgrade: its job runs with every task (verified), then fails within the window.
    commit(world, "rollme", args=failing_args(3000), conf=ROLLBACK)
    upgraded = sync(world)
    assert upgraded.ok and plan_of(upgraded, rid).action is Action.UPGRADE, upgraded.executions
    watched = world.status(rid)
    assert watched.lifecycle_state is LifecycleState.DEPLOYED
    assert watched.reconciliation.upgrade_snapshot is not None
    savepoint = watched.reconciliation.upgrade_snapshot.path
    bad = watched.job_status.job_id
    assert bad is not None
    api = world.api(rid)
    wait_for(lambda: api.job_details(bad).state == "FAILED" or None, 90.0, "the upgrade to fail")
    rolled = sync(world)
    plan = plan_of(rolled, rid)
    assert plan.action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    record = status.reconciliation.rollback
    assert record is not None and "failing after 3000 records" in record.reason
    assert record.restore_point == savepoint
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_stable_spec
    # Restored from the upgrade's savepoint, and the counter continued from it.
    [job] = world.running_jobs(rid)
    api = world.api(rid)
    assert same_path(api.checkpoints(job).restored, savepoint)
    wait_counting(api, job, 1)
    start = counter_gauge(api, job, "startCount")
    assert start is not None and start > 1, "the counter started again from zero"
    # Git still asks for the failing spec: it is not tried again.
    again = sync(world)
    kept = plan_of(again, rid)
    assert kept.action is Action.NONE and "not tried again" in " ".join(kept.notes)
    assert world.running_jobs(rid) == [job]
    # The next commit is applied, an upgrade from the rolled-back spec; the record is cleared.
    commit(world, "rollme", args=[*FAILING["args"], "--print-every", "500"], conf=ROLLBACK)
    fixed = sync(world)
    assert fixed.ok and plan_of(fixed, rid).action is Action.UPGRADE, fixed.executions
    after = world.status(rid)
    assert after.reconciliation.rollback is None
    assert after.lifecycle_state is LifecycleState.DEPLOYED
    assert world.running_jobs(rid) == [after.job_status.job_id]


def test_without_rollback_a_failing_upgrade_is_reported_and_its_savepoint_kept(
    world: FlinkWorld,
) -> None:
    """The upgraded job cannot restore the savepoint (its counter has another uid): it fails
    and is reported; the savepoint stays the restore point and nothing is retried."""
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "noroll")
    commit(world, "noroll", args=FAILING["args"], conf=FAILING["conf"])
    assert sync(world).ok
    first = world.status(rid).job_status.job_id
    assert first is not None
    wait_counting(world.api(rid), first, 200)
    commit(world, "noroll", args=[*FAILING["args"], "--counter-uid", "other"], conf=FAILING["conf"])
    failed = sync(world)
    assert not failed.ok
    status = world.status(rid)
    savepoint = status.job_status.upgrade_savepoint_path
    assert savepoint is not None and status.pending is not None
    assert status.pending.stop_snapshot is not None
    assert same_path(status.pending.stop_snapshot.path, savepoint)
    runs = len(world.api(rid).list_jobs())
    again = sync(world)
    assert plan_of(again, rid).action is Action.BLOCKED and not again.ok
    assert len(world.api(rid).list_jobs()) == runs  # not retried
    kept = world.status(rid)
    assert kept.job_status.upgrade_savepoint_path == savepoint
    assert kept.error is not None and "savepoint" in kept.error


def test_an_upgrade_whose_job_never_runs_is_rolled_back_at_once(world: FlinkWorld) -> None:
    """The new job cannot restore the savepoint (its counter has another uid): it never runs,
    and with rollback on the next pass restores the stable spec from that savepoint."""
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "neverup")
    commit(world, "neverup", args=FAILING["args"], conf=ROLLBACK)
    assert sync(world).ok
    job = world.status(rid).job_status.job_id
    assert job is not None
    wait_counting(world.api(rid), job, 200)
    time.sleep(WINDOW)
    assert sync(world).ok and world.status(rid).lifecycle_state is LifecycleState.STABLE
    commit(world, "neverup", args=[*FAILING["args"], "--counter-uid", "other"], conf=ROLLBACK)
    assert not sync(world).ok  # the restore fails: the upgrade never runs
    savepoint = world.status(rid).job_status.upgrade_savepoint_path
    assert savepoint is not None
    rolled = sync(world)
    assert plan_of(rolled, rid).action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    [restored] = world.running_jobs(rid)
    api = world.api(rid)
    assert same_path(api.checkpoints(restored).restored, savepoint)
    wait_counting(api, restored, 1)
    start = counter_gauge(api, restored, "startCount")
    assert start is not None and start > 1, "the counter started again from zero"


def test_gitflink_rollback_to_a_revision_restores_its_spec_from_its_savepoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gitflink rollback --to` on real Flink, as a user runs it: the spec of that revision
    from the savepoint its job left, then pinned while Git asks for the newer spec."""
    (tmp_path / "git").mkdir()
    remote = Remote(tmp_path / "git")
    data = tmp_path / "data"
    monkeypatch.setenv("GITFLINK_STABILITY_WINDOW", "0")
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "pinme")
    args = FAILING["args"]

    def text(**changes: Any) -> str:
        return manifest(VERSION, "pinme", conf=FAILING["conf"], **changes).decode()

    def sync_cli() -> int:
        return main(["sync", "--repo", str(remote.work), "--data-dir", str(data)])

    try:
        first = remote.commit({"pinme.yaml": text(args=args)})
        assert sync_cli() == 0
        world = flink_world(LocalRuntime(data, Settings.from_env().cache_dir), data, {})
        job = world.status(rid).job_status.job_id
        assert job is not None
        wait_counting(world.api(rid), job, 300)
        remote.commit({"pinme.yaml": text(args=[*args, "--print-every", "500"])})
        assert sync_cli() == 0  # the upgrade's savepoint was taken from the job of `first`
        savepoint = world.status(rid).job_status.last_savepoint
        assert savepoint is not None and savepoint.revision == first
        common = ["rollback", "pinme", "--to", first[:8], "--repo", str(remote.work)]
        common += ["--data-dir", str(data)]
        monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: asks for --yes
        assert main(common) == 3
        assert world.status(rid).reconciliation.rollback is None
        assert main([*common, "--yes"]) == 0
        status = world.status(rid)
        assert status.lifecycle_state is LifecycleState.ROLLED_BACK
        assert status.applied_revision == first
        [restored] = world.running_jobs(rid)
        api = world.api(rid)
        assert same_path(api.checkpoints(restored).restored, savepoint.path)
        wait_counting(api, restored, 1)
        start = counter_gauge(api, restored, "startCount")
        assert start is not None and start > 1, "the counter started again from zero"
        assert sync_cli() == 0  # pinned: Git's newer spec is not applied again
        assert world.running_jobs(rid) == [restored]
    finally:
        stop_everything(data)
