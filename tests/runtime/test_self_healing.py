"""Every pass converges what runs, not only what changed in Git: lost clusters and TaskManagers,
jobs Flink gave up on, jobs cancelled or rescaled outside Git (docs/recovery.md), on the fakes."""

from __future__ import annotations

from datetime import timedelta

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, SESSION, SESSION_FILES, VIEWS
from support.passes import app as manifest

from gitflink.core.planning import Healing
from gitflink.model.plan import Action, AwaitJob, StartCluster, SubmitJob
from gitflink.model.status import ConditionStatus, LifecycleState, ResourceStatus
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

RESTART_FAILED = b"""
    kubernetes.operator.job.restart.failed: "true"
    db.password: hunter2"""


def deployed(mode: str = "savepoint", extra: bytes = b"") -> tuple[FakeWorld, str]:
    text = manifest("orders", mode=mode)
    if extra:
        text = text.replace(
            b"    state.checkpoints.dir", extra.lstrip(b"\n") + b"\n    state.checkpoints.dir"
        )
    world = fake_world({"streaming/orders.yaml": text})
    first = run_pass(world.ports)
    assert first.ok, first.executions
    return world, job_of(world)


def job_of(world: FakeWorld, resource=ORDERS) -> str:  # type: ignore[no-untyped-def]
    status = world.store.load(resource)
    assert status is not None and status.job_status.job_id is not None
    return status.job_status.job_id


def status_of(world: FakeWorld, resource=ORDERS) -> ResourceStatus:  # type: ignore[no-untyped-def]
    status = world.store.load(resource)
    assert status is not None
    return status


def condition(status: ResourceStatus, kind: str) -> tuple[ConditionStatus, str, str] | None:
    found = next((c for c in status.conditions if c.type == kind), None)
    return (found.status, found.reason, found.message) if found else None


def sync(world: FakeWorld, **healing: object) -> PassResult:
    config = PassConfig(healing=Healing(**healing), stable_after=30.0)  # type: ignore[arg-type]
    return run_pass(world.ports, config)


def only_plan(result: PassResult, resource=ORDERS):  # type: ignore[no-untyped-def]
    assert result.plan is not None
    job = result.plan.for_resource(resource)
    assert job is not None
    return job


def test_a_lost_cluster_starts_again_from_the_newest_checkpoint() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    api.complete_checkpoint(job_id)
    newest = api.complete_checkpoint(job_id)
    world.runtime.lose_cluster(ORDERS)
    result = sync(world)
    plan = only_plan(result)
    assert plan.action is Action.RECOVER
    assert plan.drift is not None and "cluster is gone" in plan.drift
    assert [type(step) for step in plan.steps] == [StartCluster, SubmitJob]
    assert result.ok, result.unhealthy
    new_job = job_of(world)
    assert new_job != job_id
    assert world.runtime.api_for(ORDERS).jobs[new_job].restored == newest
    status = status_of(world)
    assert status.recovery is not None and status.recovery.attempts == 1
    assert status.lifecycle_state is LifecycleState.DEPLOYED  # stable only after the window
    ready = condition(status, "Ready")
    assert ready is not None and ready[0] is ConditionStatus.TRUE and "recovered" in ready[2]
    assert condition(status, "Drift") == (ConditionStatus.TRUE, "Drifted", plan.drift)


def test_a_recovered_job_is_stable_after_the_window_and_drift_clears() -> None:
    world, job_id = deployed()
    world.runtime.api_for(ORDERS).complete_checkpoint(job_id)
    world.runtime.lose_cluster(ORDERS)
    sync(world)
    sync(world)  # within the window: still counted
    assert status_of(world).recovery is not None
    drift = condition(status_of(world), "Drift")
    assert drift is not None and drift[:2] == (ConditionStatus.FALSE, "Converged")
    world.clock.sleep(31)
    assert sync(world).ok
    status = status_of(world)
    assert status.recovery is None and status.lifecycle_state is LifecycleState.STABLE


def test_a_stateful_job_with_no_state_anywhere_is_blocked_never_restarted_empty() -> None:
    world, _ = deployed()
    world.runtime.lose_cluster(ORDERS)
    result = sync(world)
    plan = only_plan(result)
    assert plan.action is Action.BLOCKED and "manual restore required" in (plan.blocked or "")
    assert not result.ok
    assert ORDERS not in world.runtime.clusters  # nothing started
    assert condition(status_of(world), "Ready")[:2] == (ConditionStatus.FALSE, "stalled")  # type: ignore[index]


def test_a_lost_stateless_job_starts_empty() -> None:
    world, _ = deployed(mode="stateless")
    world.runtime.lose_cluster(ORDERS)
    result = sync(world)
    assert only_plan(result).action is Action.RECOVER and result.ok
    assert world.runtime.api_for(ORDERS).jobs[job_of(world)].restored is None


def test_lost_taskmanagers_are_started_again_and_the_job_is_not_resubmitted() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    world.runtime.degraded[ORDERS] = "1 of 2 TaskManagers running"
    api.jobs[job_id].polls_until_running = 3  # Flink restarts it once slots are back
    submissions = world.journal.calls("flink").count("run_jar")
    result = sync(world)
    plan = only_plan(result)
    assert [type(step) for step in plan.steps] == [StartCluster, AwaitJob]
    assert result.ok
    assert world.journal.calls("flink").count("run_jar") == submissions
    assert job_of(world) == job_id and ORDERS not in world.runtime.degraded


def test_a_failed_job_stays_failed_without_restart_failed_with_its_cause_redacted() -> None:
    world, job_id = deployed(extra=b"    db.password: hunter2")
    api = world.runtime.api_for(ORDERS)
    api.complete_checkpoint(job_id)
    api.fail_job(job_id, "java.lang.RuntimeException: login hunter2 refused\n\tat a.b(C.java:1)")
    result = sync(world)
    assert only_plan(result).action is Action.NONE
    assert not result.ok and result.unhealthy[ORDERS].verdict == "FAIL"
    status = status_of(world)
    assert status.lifecycle_state is LifecycleState.FAILED
    ready = condition(status, "Ready")
    assert ready is not None and ready[:2] == (ConditionStatus.FALSE, "JobFailed")
    assert "login ****** refused" in ready[2]
    said = [c.message for c in status.conditions] + [status.error or "", *only_plan(result).notes]
    assert "hunter2" not in " ".join(said) + str(only_plan(result).drift)
    assert job_of(world) == job_id and sync(world).unhealthy  # kept until the spec changes


def test_a_spec_change_upgrades_a_failed_job_from_its_latest_checkpoint() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    checkpoint = api.complete_checkpoint(job_id)
    api.fail_job(job_id, "boom")
    sync(world)
    world.source.commit({"streaming/orders.yaml": manifest("orders", rate=20)})
    result = sync(world)
    assert only_plan(result).action is Action.UPGRADE and result.ok
    assert api.jobs[job_of(world)].restored == checkpoint


def test_restart_failed_restarts_from_the_checkpoint_and_backs_off_a_crash_loop() -> None:
    world, job_id = deployed(extra=RESTART_FAILED)
    api = world.runtime.api_for(ORDERS)
    checkpoint = api.complete_checkpoint(job_id)
    for attempt, wait in ((1, 0), (2, 10), (3, 20), (4, 40)):
        api.fail_job(job_of(world), "crash")
        if wait:
            world.clock.sleep(wait - 1)
            early = sync(world)
            assert only_plan(early).action is Action.NONE
            assert f"restart attempt {attempt} backs off" in " ".join(only_plan(early).notes)
            assert early.unhealthy[ORDERS].verdict == "RECOVERING"
            world.clock.sleep(1)
        result = sync(world)
        assert only_plan(result).action is Action.RECOVER, attempt
        assert api.jobs[job_of(world)].restored == checkpoint
        status = status_of(world)
        assert status.recovery is not None and status.recovery.attempts == attempt


def test_a_job_cancelled_outside_git_is_restarted_from_its_state() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    checkpoint = api.complete_checkpoint(job_id)
    api.cancel(job_id)
    result = sync(world)
    plan = only_plan(result)
    assert plan.action is Action.RECOVER and "cancelled outside Git" in (plan.drift or "")
    assert result.ok and api.jobs[job_of(world)].restored == checkpoint


def test_a_job_stopped_with_a_savepoint_outside_git_resumes_from_it() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    api.stop_with_savepoint(job_id, None)
    savepoint = api.jobs[job_id].savepoints[-1]
    result = sync(world)
    plan = only_plan(result)
    assert plan.action is Action.RECOVER and "stopped with a savepoint" in (plan.drift or "")
    assert result.ok and api.jobs[job_of(world)].restored == savepoint


def test_a_bounded_job_that_finished_stays_finished() -> None:
    world, job_id = deployed()
    world.runtime.api_for(ORDERS).jobs[job_id].state = "FINISHED"  # ran to its end
    result = sync(world)
    assert only_plan(result).action is Action.NONE and result.ok
    assert job_of(world) == job_id


def test_without_self_heal_a_cancelled_job_is_reported_as_drift_only() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    api.complete_checkpoint(job_id)
    api.cancel(job_id)
    submissions = world.journal.calls("flink").count("run_jar")
    result = sync(world, self_heal=False)
    assert only_plan(result).action is Action.NONE
    assert result.unhealthy[ORDERS].verdict == "FAIL"
    drift = condition(status_of(world), "Drift")
    assert drift is not None and drift[0] is ConditionStatus.TRUE
    assert world.journal.calls("flink").count("run_jar") == submissions


def test_a_job_rescaled_outside_git_is_brought_back_to_gits_parallelism() -> None:
    world, job_id = deployed()
    api = world.runtime.api_for(ORDERS)
    api.complete_checkpoint(job_id)
    api.jobs[job_id].parallelism = 5  # PUT /jobs/:id/resource-requirements, by hand
    result = sync(world)
    plan = only_plan(result)
    assert plan.action is Action.RECOVER
    assert plan.drift == "job runs at parallelism 5, Git says 2"
    assert result.ok and api.jobs[job_of(world)].parallelism == 2


def test_a_lost_session_cluster_comes_back_before_its_jobs_are_resubmitted() -> None:
    world = fake_world(SESSION_FILES)
    assert run_pass(world.ports).ok
    job_id = job_of(world, VIEWS)
    world.runtime.api_for(SESSION).complete_checkpoint(job_id)
    world.runtime.lose_cluster(SESSION)
    result = sync(world)
    assert only_plan(result, SESSION).action is Action.RECOVER
    assert only_plan(result, VIEWS).action is Action.RECOVER
    assert result.ok, result.unhealthy
    assert world.runtime.api_for(SESSION).running_jobs()[0].job_id == job_of(world, VIEWS)


def test_a_quiet_healthy_pass_writes_no_status() -> None:
    world, _ = deployed()
    sync(world)
    saves = len(world.journal.calls("status"))
    world.clock.sleep(timedelta(minutes=5).total_seconds())
    assert sync(world).ok
    assert len(world.journal.calls("status")) == saves


def test_a_cluster_that_keeps_dying_is_started_again_only_after_its_backoff() -> None:
    world, job_id = deployed()
    world.runtime.api_for(ORDERS).complete_checkpoint(job_id)
    world.runtime.lose_cluster(ORDERS)
    assert only_plan(sync(world)).action is Action.RECOVER
    world.runtime.lose_cluster(ORDERS)
    waiting = sync(world)
    assert only_plan(waiting).action is Action.NONE
    assert waiting.unhealthy[ORDERS].verdict == "RECOVERING"
    assert ORDERS not in world.runtime.clusters
    world.clock.sleep(10)
    assert only_plan(sync(world)).action is Action.RECOVER
    assert status_of(world).recovery.attempts == 2  # type: ignore[union-attr]


def test_a_finished_job_whose_cluster_went_away_is_not_started_again() -> None:
    world, job_id = deployed()
    world.runtime.api_for(ORDERS).jobs[job_id].state = "FINISHED"
    sync(world)  # records FINISHED
    world.runtime.lose_cluster(ORDERS)
    result = sync(world)
    assert only_plan(result).action is Action.NONE and result.ok
    assert ORDERS not in world.runtime.clusters
