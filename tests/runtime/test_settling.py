"""With a drift interval, a pass that finds Git unchanged since a converged pass stops after
fetching; running jobs are still checked when the drift check is due, after every new
revision, and after any pass that did something."""

from __future__ import annotations

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, app

from gitflink.model.ids import job_id_for
from gitflink.model.status import LifecycleState
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.runtime.settling import Settled

DRIFT = 60.0


def reads(world: FakeWorld) -> int:
    return sum(sum(api.reads.values()) for api in world.runtime.apis.values())


def settled_world() -> tuple[FakeWorld, PassConfig]:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    config = PassConfig(settled=Settled(drift_interval=DRIFT))
    deployed = run_pass(world.ports, config)
    assert deployed.ok and deployed.observed
    converged = run_pass(world.ports, config)  # did nothing: now converged
    assert converged.ok and converged.observed
    return world, config


def quiet(world: FakeWorld, config: PassConfig) -> PassResult:
    before = reads(world)
    result = run_pass(world.ports, config)
    assert reads(world) == before, "a quiet pass must not ask Flink"
    return result


def test_unchanged_git_after_a_converged_pass_stops_after_fetching() -> None:
    world, config = settled_world()
    parses = config.reader.parses
    result = quiet(world, config)
    assert not result.observed and result.ok
    assert config.reader.parses == parses


def test_drift_check_when_due_records_a_failed_job_in_its_status() -> None:
    world, config = settled_world()
    api = world.runtime.api_for(ORDERS)
    api.jobs[job_id_for(ORDERS, 1)].state = "FAILED"
    assert not quiet(world, config).observed  # not due yet
    world.clock.sleep(DRIFT)
    assert run_pass(world.ports, config).observed
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.state == "FAILED"
    assert status.lifecycle_state is LifecycleState.FAILED
    ready = next(c for c in status.conditions if c.type == "Ready")
    assert (ready.status.value, ready.reason) == ("False", "JobFailed")


def test_new_revision_is_observed_and_applied_at_once() -> None:
    world, config = settled_world()
    world.source.commit({"streaming/orders.yaml": app("orders", rate=99)})
    result = run_pass(world.ports, config)
    assert result.observed
    [job] = world.runtime.api_for(ORDERS).running_jobs()
    assert job.args == ("--rate", "99")
    # The pass after a change observes again before settling.
    assert run_pass(world.ports, config).observed
    assert not run_pass(world.ports, config).observed


def test_without_a_drift_interval_every_pass_observes() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    config = PassConfig()
    for _ in range(3):
        assert run_pass(world.ports, config).observed
