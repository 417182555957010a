"""Interrupted upgrades (a crash at a write-ahead point, simulated with fakes) finish on the next
pass from the same savepoint with exactly one job running. Real SIGKILL runs: test_crash_flink."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from support.executor_plans import APP, app, deployed, run, upgrade_plan
from support.fakes import FakeStatusStore, FakeWorld, fake_world
from support.passes import ORDERS
from support.passes import app as manifest

from gitflink.model.errors import Next
from gitflink.model.ids import ResourceId
from gitflink.model.plan import SubmitJob
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.reconciler import run_pass


class Crash(BaseException):
    """Like SIGKILL: not an Exception, so nothing in gitflink catches it."""


class CrashingStore:
    """Dies instead of saving the first status whose message contains `at`."""

    def __init__(self, inner: FakeStatusStore, at: str) -> None:
        self.inner, self.at = inner, at

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        return self.inner.load_all()

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        return self.inner.load(resource)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        if self.at in message:
            raise Crash(message)
        self.inner.save(resource, status, message)

    def delete(self, resource: ResourceId, message: str) -> None:
        self.inner.delete(resource, message)


def _crash_during_upgrade(world: FakeWorld, at: str) -> None:
    ports = world.ports
    crashing = Ports(
        ports.source, ports.runtime, ports.flink, CrashingStore(world.store, at), ports.clock
    )
    with pytest.raises(Crash):
        run(world, upgrade_plan(app(parallelism=3)), revision="rev2", ports=crashing)


def _assert_finished_from_one_savepoint(world: FakeWorld, old_job: str) -> None:
    api = world.runtime.api_for(APP)
    assert world.journal.calls("flink").count("stop_with_savepoint") == 1
    assert len(api.jobs[old_job].savepoints) == 1
    running = api.running_jobs()
    assert len(running) == 1
    assert running[0].restored == api.jobs[old_job].savepoints[0]
    status = world.store.load(APP)
    assert status is not None and status.pending is None
    assert status.reconciliation.last_applied_spec == app(parallelism=3).to_manifest()["spec"]


def test_crash_after_savepoint_before_status_records_it() -> None:
    world = fake_world()
    old_job = deployed(world)
    _crash_during_upgrade(world, at="taken, job")
    status = world.store.load(APP)
    assert status is not None and status.job_status.upgrade_savepoint_path is None
    assert run(world, upgrade_plan(app(parallelism=3)), revision="rev2").ok
    _assert_finished_from_one_savepoint(world, old_job)


def test_crash_after_the_old_job_stopped_before_resubmission() -> None:
    world = fake_world()
    old_job = deployed(world)
    _crash_during_upgrade(world, at="submitting generation")
    assert world.runtime.api_for(APP).running_jobs() == []
    assert run(world, upgrade_plan(app(parallelism=3)), revision="rev2").ok
    _assert_finished_from_one_savepoint(world, old_job)


def _crash_during_pass(world: FakeWorld, at: str) -> str:
    """Deploy orders, commit an upgrade and crash the pass at `at`; the old job's id."""
    assert run_pass(world.ports).ok
    old = world.store.load(ORDERS).job_status.job_id  # type: ignore[union-attr]
    world.source.commit({"streaming/orders.yaml": manifest("orders", parallelism=3, rate=20)})
    ports = world.ports
    crashing = Ports(
        ports.source, ports.runtime, ports.flink, CrashingStore(world.store, at), ports.clock
    )
    with pytest.raises(Crash):
        run_pass(crashing)
    return str(old)


def test_crash_after_submission_is_finished_by_a_plan_that_verifies_the_submitted_job() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    old = _crash_during_pass(world, at="upgrade done")
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is not None
    submitted = status.pending.submitted_job_id
    assert submitted is not None and status.pending.stop_snapshot is not None
    result = run_pass(world.ports)
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    [job] = result.plan.jobs if result.plan else ()
    assert [(type(s), getattr(s, "adopt", None)) for s in job.steps] == [(SubmitJob, submitted)]
    assert world.journal.calls("flink").count("run_jar") == 2  # the deploy and the upgrade
    api = world.runtime.api_for(ORDERS)
    [running] = api.running_jobs()
    assert running.job_id == submitted and running.restored == api.jobs[old].savepoints[0]
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is None


def test_after_a_crash_a_wrong_restore_stalls_as_it_does_without_one() -> None:
    """The crash path is as strict as the normal path: the submitted job restored another
    path than the savepoint recorded, so the change is not recorded as applied."""
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    _crash_during_pass(world, at="upgrade done")
    api = world.runtime.api_for(ORDERS)
    [running] = api.running_jobs()
    running.restored = "file:///elsewhere/savepoint-0"
    result = run_pass(world.ports)
    assert not result.ok
    [execution] = result.executions
    assert execution.next is Next.STALL and "restored" in str(execution.error)
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is not None, "the change is not applied"
    assert status.reconciliation.last_applied_spec is not None
    assert status.reconciliation.last_applied_spec["job"]["parallelism"] == 2


@pytest.mark.parametrize("crash_at", ["taken, job", "submitting generation", "upgrade done"])
def test_a_full_pass_after_a_crash_finishes_the_upgrade_once(crash_at: str) -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    old = _crash_during_pass(world, at=crash_at)
    result = run_pass(world.ports)
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    api = world.runtime.api_for(ORDERS)
    assert world.journal.calls("flink").count("stop_with_savepoint") == 1
    [running] = api.running_jobs()
    assert running.restored == api.jobs[old].savepoints[0]
    assert (running.parallelism, running.args) == (3, ("--rate", "20"))
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is None and status.error is None


def test_a_restore_that_cannot_work_stalls_once_and_waits_for_a_spec_change() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    assert run_pass(world.ports).ok
    api = world.runtime.api_for(ORDERS)
    world.source.commit({"streaming/orders.yaml": manifest("orders", rate=20)})
    api.fail_next_run = (
        "Cannot map checkpoint/savepoint state for operator counter to the new program"
    )
    failed = run_pass(world.ports)
    [execution] = failed.executions
    assert execution.next is Next.STALL and "Cannot map" in str(execution.error)
    runs = world.journal.calls("flink").count("run_jar")
    for _ in range(2):  # not retried: one FAILED job, not one per pass
        again = run_pass(world.ports)
        assert not again.ok
        assert world.journal.calls("flink").count("run_jar") == runs
    status = world.store.load(ORDERS)
    assert status is not None and status.error is not None and "Cannot map" in status.error
    assert status.error.count("stalled") == 1
    fixed = manifest("orders", rate=20).replace(
        b"upgradeMode: savepoint", b"upgradeMode: savepoint\n    allowNonRestoredState: true"
    )
    world.source.commit({"streaming/orders.yaml": fixed})
    result = run_pass(world.ports)
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    [running] = api.running_jobs()
    stop_savepoint = world.store.load(ORDERS).job_status.last_savepoint  # type: ignore[union-attr]
    assert stop_savepoint is not None and running.restored == stop_savepoint.path
