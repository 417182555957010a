"""Interrupted upgrades (a crash at a write-ahead point, simulated with fakes) finish on the next
pass from the same savepoint with exactly one job running. Real SIGKILL runs: test_crash_flink."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from executor_plans import APP, app, deployed, run, upgrade_plan
from fakes import FakeStatusStore, FakeWorld, fake_world

from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.context import Timeouts
from gitflink.runtime.progress import SilentProgress
from gitflink.runtime.reconciler import run_pass
from gitflink.runtime.resuming import finish_interrupted


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


def test_crash_after_submission_is_finished_without_planning_a_second_upgrade() -> None:
    world = fake_world()
    old_job = deployed(world)
    _crash_during_upgrade(world, at="done: submit")
    status = world.store.load(APP)
    assert status is not None and status.pending is not None
    finished = finish_interrupted(
        world.ports, APP, status, progress=SilentProgress(), timeouts=Timeouts()
    )
    assert finished is not None and finished.ok
    _assert_finished_from_one_savepoint(world, old_job)
    assert world.journal.calls("flink").count("run_jar") == 2  # the deploy and the upgrade


@pytest.mark.parametrize("crash_at", ["taken, job", "submitting generation", "done: submit"])
def test_a_full_pass_after_a_crash_finishes_the_upgrade_once(crash_at: str) -> None:
    from test_reconciler import ORDERS
    from test_reconciler import app as manifest

    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    assert run_pass(world.ports).ok
    old = world.store.load(ORDERS).job_status.job_id  # type: ignore[union-attr]
    world.source.commit({"streaming/orders.yaml": manifest("orders", parallelism=3, rate=20)})
    ports = world.ports
    crashing = Ports(
        ports.source, ports.runtime, ports.flink, CrashingStore(world.store, crash_at), ports.clock
    )
    with pytest.raises(Crash):
        run_pass(crashing)
    result = run_pass(world.ports)
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    api = world.runtime.api_for(ORDERS)
    assert world.journal.calls("flink").count("stop_with_savepoint") == 1
    [running] = api.running_jobs()
    assert running.restored == api.jobs[str(old)].savepoints[0]
    assert (running.parallelism, running.args) == (3, ("--rate", "20"))
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is None and status.error is None
