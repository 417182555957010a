"""Rollback through whole passes on the fakes (docs/rollback.md): the watch after a change, the
last stable spec, the rollback from the savepoint the change started from, the rejected spec
left alone and the next commit applied; nothing of Flink is stubbed away from the ports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, SESSION, SESSION_FILES, VIEWS
from support.passes import app as manifest

from gitflink.core.planning import Healing
from gitflink.model.errors import ClusterError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import LifecycleState, ReconciliationState, ResourceStatus
from gitflink.ports import RevertRequest
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

ROLLBACK = b'    kubernetes.operator.deployment.rollback.enabled: "true"\n'


def text(rate: int) -> bytes:
    return manifest("orders", rate=rate).replace(
        b"    state.checkpoints.dir", ROLLBACK + b"    state.checkpoints.dir"
    )


def sync(world: FakeWorld) -> PassResult:
    return run_pass(world.ports, PassConfig(healing=Healing(), stable_after=30.0))


def status_of(world: FakeWorld) -> ResourceStatus:
    status = world.store.load(ORDERS)
    assert status is not None
    return status


def action(result: PassResult) -> Action:
    assert result.plan is not None
    plan = result.plan.for_resource(ORDERS)
    assert plan is not None
    return plan.action


def stable_world() -> FakeWorld:
    world = fake_world({"streaming/orders.yaml": text(10)})
    assert sync(world).ok
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.DEPLOYED  # watched
    assert status.reconciliation.last_stable_spec is None
    world.clock.sleep(31)
    assert sync(world).ok
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.STABLE
    assert status.reconciliation.last_stable_spec == status.reconciliation.last_applied_spec
    assert status.reconciliation.last_stable_revision == status.applied_revision
    return world


def test_a_failing_upgrade_is_rolled_back_then_left_alone_until_git_changes() -> None:
    world = stable_world()
    stable = status_of(world)
    world.source.commit({"streaming/orders.yaml": text(20)})
    assert action(sync(world)) is Action.UPGRADE
    watched = status_of(world)
    assert watched.lifecycle_state is LifecycleState.DEPLOYED
    assert watched.reconciliation.last_stable_spec == stable.reconciliation.last_applied_spec
    assert watched.reconciliation.upgrade_snapshot is not None
    savepoint = watched.reconciliation.upgrade_snapshot.path
    api = world.runtime.api_for(ORDERS)
    api.fail_job(watched.job_status.job_id or "", "boom")
    rolled = sync(world)
    assert action(rolled) is Action.ROLLBACK and rolled.ok, rolled.executions
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    assert status.reconciliation.state is ReconciliationState.ROLLED_BACK
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_applied_spec
    assert status.applied_revision == stable.applied_revision  # the revision that runs
    record = status.reconciliation.rollback
    assert record is not None and "boom" in record.reason and record.restore_point == savepoint
    restarted = world.runtime.api_for(ORDERS)  # the cluster was restarted with the stable spec
    assert restarted.jobs[status.job_status.job_id or ""].restored == savepoint
    ready = next(c for c in status.conditions if c.type == "Ready")
    assert ready.reason == "rollback" and "rolled back" in ready.message
    submissions = world.journal.calls("flink").count("run_jar")
    assert action(sync(world)) is Action.NONE  # the rejected spec is not tried again
    assert world.journal.calls("flink").count("run_jar") == submissions
    world.source.commit({"streaming/orders.yaml": text(30)})
    applied = sync(world)
    assert action(applied) is Action.UPGRADE and applied.ok
    assert status_of(world).reconciliation.rollback is None


def test_a_job_stable_for_the_window_is_never_rolled_back() -> None:
    world = stable_world()
    world.source.commit({"streaming/orders.yaml": text(20)})
    assert sync(world).ok
    world.clock.sleep(31)
    assert sync(world).ok
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.STABLE
    assert status.reconciliation.last_stable_spec == status.reconciliation.last_applied_spec
    api = world.runtime.api_for(ORDERS)
    api.fail_job(status.job_status.job_id or "", "boom")
    assert action(sync(world)) is Action.NONE  # reported as a failed job (recovery.md)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[RevertRequest] = []

    def publish(self, request: RevertRequest) -> bool:
        self.requests.append(request)
        return True


def test_a_rollback_asks_for_a_revert_branch_when_configured() -> None:
    world = stable_world()
    stable = status_of(world).applied_revision
    recorder = Recorder()
    ports = replace(world.ports, reverts=recorder)
    bad = world.source.commit({"streaming/orders.yaml": text(20)})
    run_pass(ports, PassConfig(stable_after=30.0))
    api = world.runtime.api_for(ORDERS)
    api.fail_job(status_of(world).job_status.job_id or "", "boom")
    assert action(run_pass(ports, PassConfig(stable_after=30.0))) is Action.ROLLBACK
    [request] = recorder.requests
    assert (request.stable, request.rejected, request.file) == (
        stable,
        bad.sha,
        "streaming/orders.yaml",
    )
    assert request.branch == f"gitflink/revert-orders-{bad.sha[:7]}"


READY_IN_20S = b'    kubernetes.operator.deployment.readiness.timeout: "20 s"\n'


def never_ready(world: FakeWorld, rate: int) -> None:
    """Commit an upgrade whose new job never runs with every task (its tasks keep deploying)."""
    world.source.commit(
        {"streaming/orders.yaml": text(rate).replace(ROLLBACK, ROLLBACK + READY_IN_20S)}
    )
    world.runtime.api_for(ORDERS).deploy_polls = 10**9


def test_an_upgrade_not_ready_by_its_readiness_timeout_is_rolled_back_in_the_same_pass() -> None:
    world = stable_world()
    stable = status_of(world)
    never_ready(world, 20)
    started = world.clock.monotonic()
    rolled = sync(world)
    # The submission gave up at the 20 s deadline, not after its own 180 s wait, and the same
    # pass planned the resource again from what Flink said: a rollback.
    assert world.clock.monotonic() - started < 60
    assert action(rolled) is Action.ROLLBACK and rolled.ok, rolled.executions
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_applied_spec
    record = status.reconciliation.rollback
    assert record is not None and "within 20s" in record.reason
    assert record.restore_point == status.job_status.restored_from.path  # type: ignore[union-attr]
    assert world.runtime.api_for(ORDERS).jobs[status.job_status.job_id or ""].state == "RUNNING"


def test_without_rollback_a_late_upgrade_is_blocked_in_the_same_pass() -> None:
    world = stable_world()
    world.source.commit({"streaming/orders.yaml": manifest("orders", rate=20)})
    world.runtime.api_for(ORDERS).deploy_polls = 10**9
    blocked = run_pass(world.ports, PassConfig(healing=Healing(readiness_timeout=20.0)))
    assert action(blocked) is Action.BLOCKED and not blocked.ok
    status = status_of(world)
    assert status.pending is not None and status.job_status.upgrade_savepoint_path is not None
    assert status.error is not None and "within 20s" in status.error


def session_files(extra: str = "") -> dict[str, bytes]:
    conf = (
        '{kubernetes.operator.deployment.rollback.enabled: "true", '
        f'kubernetes.operator.deployment.readiness.timeout: "20 s", '
        f"state.savepoints.dir: file:///sp, state.checkpoints.dir: file:///cp{extra}}}"
    )
    cluster = SESSION_FILES["analytics/cluster.yaml"].replace(
        b"flinkVersion: v1_20}", f"flinkVersion: v1_20, flinkConfiguration: {conf}}}".encode()
    )
    views = SESSION_FILES["analytics/views.yaml"].replace(
        b"parallelism: 1}", b"parallelism: 1, upgradeMode: savepoint}"
    )
    return {"analytics/cluster.yaml": cluster, "analytics/views.yaml": views}


def broken_starts(world: FakeWorld) -> list[float]:
    """A cluster whose Flink configuration says `broken` never starts: its JobManager exits
    during start-up. Returns when each start was tried."""
    start, failed = world.runtime.ensure_cluster, []

    def broken_start(resource: ResourceId, spec: FlinkDeploymentSpec, **kwargs: Any) -> Any:
        if "broken" in str(spec.flink_configuration):
            failed.append(world.clock.monotonic())
            raise ClusterError("the JobManager exited during start-up")
        return start(resource, spec, **kwargs)

    world.runtime.ensure_cluster = broken_start  # type: ignore[method-assign]
    return failed


def test_an_application_whose_cluster_never_comes_back_is_rolled_back_in_the_same_pass() -> None:
    world = stable_world()
    stable = status_of(world)
    failed = broken_starts(world)
    broken = ROLLBACK + READY_IN_20S + b"    state.backend.type: broken\n"
    world.source.commit({"streaming/orders.yaml": text(20).replace(ROLLBACK, broken)})
    began = world.clock.monotonic()
    rolled = sync(world)
    assert action(rolled) is Action.ROLLBACK and rolled.ok, rolled.executions
    # The savepoint stop ran, the start was tried until the 20 s deadline, then the same pass
    # rolled back: the last stable spec runs again from the upgrade's savepoint.
    assert len(failed) > 3 and failed[-1] - began >= 20
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_stable_spec
    record = status.reconciliation.rollback
    assert record is not None and "did not come up within 20s" in record.reason
    assert record.restore_point is not None
    job = world.runtime.api_for(ORDERS).jobs[status.job_status.job_id or ""]
    assert job.state == "RUNNING" and job.restored == record.restore_point
    # Git still asks for the broken spec: it is not tried again.
    tried = len(failed)
    again = sync(world)
    assert again.ok and action(again) is not Action.ROLLBACK and len(failed) == tried
    assert (
        status_of(world).reconciliation.last_applied_spec == stable.reconciliation.last_stable_spec
    )


def test_without_rollback_a_cluster_that_never_comes_back_is_tried_again_each_pass() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders", rate=10)})
    assert sync(world).ok
    failed = broken_starts(world)
    broken = manifest("orders", rate=20).replace(
        b"    state.checkpoints.dir", b"    state.backend.type: broken\n    state.checkpoints.dir"
    )
    world.source.commit({"streaming/orders.yaml": broken})
    first = run_pass(world.ports, PassConfig(healing=Healing(readiness_timeout=20.0)))
    assert not first.ok and action(first) is not Action.ROLLBACK
    tried = len(failed)
    second = run_pass(world.ports, PassConfig(healing=Healing(readiness_timeout=20.0)))
    assert not second.ok and action(second) is not Action.ROLLBACK and len(failed) > tried
    status = status_of(world)
    assert status.pending is not None and status.job_status.upgrade_savepoint_path is not None


def test_a_session_cluster_whose_upgrade_never_starts_is_rolled_back_with_its_job() -> None:
    world = fake_world(session_files())
    assert sync(world).ok
    world.clock.sleep(31)
    assert sync(world).ok
    stable = world.store.load(SESSION)
    assert stable is not None and stable.lifecycle_state is LifecycleState.STABLE
    assert stable.reconciliation.last_stable_spec == stable.reconciliation.last_applied_spec
    failed = broken_starts(world)
    world.source.commit(session_files(", state.backend.type: broken"))
    began = world.clock.monotonic()
    rolled = run_pass(world.ports, PassConfig(healing=Healing(), stable_after=30.0))
    assert rolled.plan is not None
    plan = rolled.plan.for_resource(SESSION)
    assert plan is not None and plan.action is Action.ROLLBACK and rolled.ok, rolled.executions
    # The start was tried again until the 20 s readiness deadline, then the same pass rolled back.
    assert len(failed) > 3 and failed[-1] - began >= 20
    assert world.clock.monotonic() - began < 60
    status = world.store.load(SESSION)
    assert status is not None and status.lifecycle_state is LifecycleState.ROLLED_BACK
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_stable_spec
    views = world.store.load(VIEWS)
    assert views is not None and views.job_status.last_savepoint is not None
    resubmitted = world.runtime.api_for(SESSION).jobs[views.job_status.job_id or ""]
    assert resubmitted.state == "RUNNING"
    assert resubmitted.restored == views.job_status.last_savepoint.path
