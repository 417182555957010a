"""A JobManager that restarted without HA runs its job again from the restore path of its
start (same job id, a newer Flink start time): the next pass notices it and redeploys from the
newest state of the previous run, or reports it (docs/recovery.md). Whole passes on the fakes."""

from __future__ import annotations

from dataclasses import replace

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, app
from support.passes import pass_ok as _pass

from gitflink.core.plan_rendering import render_text
from gitflink.core.planning.facts import Healing
from gitflink.model.plan import Action, JobPlan, Plan
from gitflink.model.status import ConditionStatus, ResourceStatus
from gitflink.runtime.reconciler import PassConfig, run_pass

PERIODIC = "kubernetes.operator.periodic.savepoint.interval"


def manifest(mode: str = "savepoint", **keys: str) -> bytes:
    lines = "".join(f"    {key}: '{value}'\n" for key, value in keys.items())
    return app("orders", mode=mode).replace(
        b"  flinkConfiguration:\n", f"  flinkConfiguration:\n{lines}".encode()
    )


def deployed(data: bytes) -> FakeWorld:
    world = fake_world({"streaming/orders.yaml": data})
    _pass(world)
    return world


def status_of(world: FakeWorld) -> ResourceStatus:
    status = world.store.load(ORDERS)
    assert status is not None
    return status


def planned(world: FakeWorld) -> JobPlan:
    result = run_pass(world.ports, PassConfig())
    assert result.error is None and result.plan is not None
    [job] = [j for j in result.plan.jobs if j.resource == ORDERS]
    return job


def drift(status: ResourceStatus) -> str | None:
    found = next((c for c in status.conditions if c.type == "Drift"), None)
    return found.message if found and found.status is ConditionStatus.TRUE else None


def test_a_restart_without_ha_is_redeployed_from_the_newest_savepoint_of_the_previous_run() -> None:
    world = deployed(manifest(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    world.clock.sleep(601)
    _pass(world)  # the periodic savepoint of the run gitflink started
    [savepoint] = job.savepoints
    api.restart_jobmanager(job.job_id)  # runs again from its start: empty state

    plan = planned(world)
    assert plan.action is Action.RECOVER
    assert plan.drift is not None and "JobManager restarted without HA" in plan.drift
    assert f"job {job.job_id} again from empty state" in plan.drift
    text = render_text(Plan((plan,)))
    assert f"redeployed from {savepoint}" in text and "cancel job" in text
    assert job.state == "CANCELED"
    [new] = api.running_jobs()
    assert new.job_id != job.job_id and new.restored == savepoint
    status = status_of(world)
    assert status.job_status.restored_from is not None
    assert status.job_status.restored_from.path == savepoint
    assert status.job_status.flink_start_time == new.start_time
    assert status.recovery is not None and "JobManager restarted" in (status.recovery.reason or "")

    assert planned(world).action is Action.NONE  # the start gitflink made is not flagged
    assert api.running_jobs() == [new]


def test_a_submission_that_fails_after_the_cancel_resumes_from_the_recorded_state() -> None:
    world = deployed(manifest(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    world.clock.sleep(601)
    _pass(world)
    [savepoint] = job.savepoints
    api.restart_jobmanager(job.job_id)
    api.fail_next_run = "the JobManager is busy"
    run_pass(world.ports, PassConfig())
    assert job.state == "CANCELED" and api.running_jobs() == []
    # Recorded before the cancel: never the cancelled run's own state.
    assert status_of(world).job_status.upgrade_savepoint_path == savepoint
    world.clock.sleep(600)  # the recovery's backoff
    _pass(world)
    [new] = api.running_jobs()
    assert new.restored == savepoint


def test_without_newer_state_the_restart_is_reported_and_the_job_runs_on() -> None:
    world = deployed(manifest())
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    api.restart_jobmanager(job.job_id)
    plan = planned(world)
    assert plan.action is Action.NONE and plan.steps == ()
    assert any("no savepoint or checkpoint of the previous run" in n for n in plan.notes)
    assert api.running_jobs() == [job]
    reported = drift(status_of(world))
    assert reported is not None and "JobManager restarted without HA" in reported


def test_a_stateless_job_restarted_is_reported_and_runs_on() -> None:
    world = deployed(manifest("stateless"))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    api.restart_jobmanager(job.job_id)
    plan = planned(world)
    assert plan.action is Action.NONE
    assert any("upgradeMode is stateless" in n for n in plan.notes)
    assert api.running_jobs() == [job] and drift(status_of(world)) is not None


def test_with_ha_the_jobmanager_restores_itself_and_nothing_is_flagged() -> None:
    ha = {"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///ha"}
    world = deployed(manifest(**ha))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    api.restart_jobmanager(job.job_id)
    plan = planned(world)
    assert plan.action is Action.NONE and plan.drift is None
    assert api.running_jobs() == [job]


def test_a_restart_gitflink_made_is_not_flagged() -> None:
    world = deployed(manifest())
    world.source.commit({"streaming/orders.yaml": manifest().replace(b"10", b"20")})
    _pass(world)  # an upgrade: a new run, its start recorded
    plan = planned(world)
    assert plan.action is Action.NONE and plan.drift is None


def test_self_heal_off_reports_the_restart_only() -> None:
    world = deployed(manifest(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    world.clock.sleep(601)
    _pass(world)
    api.restart_jobmanager(job.job_id)
    config = replace(PassConfig(), healing=Healing(self_heal=False))
    result = run_pass(world.ports, config)
    assert result.plan is not None
    [plan] = [j for j in result.plan.jobs if j.resource == ORDERS]
    assert plan.action is Action.NONE and plan.drift is not None
    assert api.running_jobs() == [job]


def test_a_status_from_before_start_times_were_recorded_learns_it_from_the_running_job() -> None:
    world = deployed(manifest())
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    older = status_of(world)
    older.job_status.flink_start_time = None
    world.store.save(ORDERS, older, "a status written before start times were recorded")
    _pass(world)
    assert status_of(world).job_status.flink_start_time == job.start_time
    api.restart_jobmanager(job.job_id)
    assert planned(world).drift is not None
