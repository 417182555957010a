"""Executor against fakes: each step handler, verification, and what lands in the status."""

from __future__ import annotations

from support.executor_plans import (
    APP,
    SESSION,
    SESSION_JOB,
    app,
    deploy_plan,
    deployed,
    plan,
    run,
    session_cluster,
    session_job,
    upgrade_plan,
)
from support.fakes import fake_world

from gitflink.model.errors import Next
from gitflink.model.ids import job_id_for
from gitflink.model.plan import (
    Action,
    RecordSpec,
    Rescale,
    Restore,
    RestoreSource,
    StartCluster,
    StopCluster,
    StopJob,
    SubmitJob,
    TakeCheckpoint,
    TakeSavepoint,
)
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import LifecycleState, PendingChange, SnapshotKind, SnapshotTrigger
from gitflink.runtime.context import Timeouts
from gitflink.runtime.flinkjobs import SNAPSHOT_ATTEMPTS


def test_deploy_starts_cluster_submits_job_and_records_stable_status() -> None:
    world = fake_world()
    result = run(world, deploy_plan(app()), revision="rev1")
    assert result.ok, result.error
    status = world.store.load(APP)
    assert status is not None
    assert status.lifecycle_state is LifecycleState.STABLE
    assert status.job_status.generation == 1
    assert status.job_status.job_id == job_id_for(APP, 1)
    assert status.reconciliation.last_applied_spec == app().to_manifest()["spec"]
    assert status.applied_revision == "rev1"
    assert status.pending is None
    assert [h.action for h in status.history] == ["deploy"]
    assert [o.ok for o in status.last_plan] == [True, True]
    running = world.runtime.api_for(APP).running_jobs()
    assert [(j.job_id, j.parallelism, j.args) for j in running] == [
        (job_id_for(APP, 1), 2, ("--rate", "10"))
    ]


def test_job_counts_as_running_only_when_every_vertex_runs() -> None:
    world = fake_world()
    world.runtime.ensure_cluster(APP, app().spec)
    world.runtime.api_for(APP).deploy_polls = 5
    result = run(world, deploy_plan(app()))
    assert result.ok
    assert world.clock.slept >= 5 * Timeouts().poll - 1e-9  # it waited through the DEPLOYING polls


def test_job_that_never_runs_times_out_and_keeps_the_pending_change() -> None:
    world = fake_world()
    world.runtime.ensure_cluster(APP, app().spec)
    world.runtime.api_for(APP).deploy_polls = 10**6
    result = run(world, deploy_plan(app()))
    assert not result.ok
    assert result.next is Next.WAIT
    status = world.store.load(APP)
    assert status is not None and status.pending is not None
    assert status.lifecycle_state is LifecycleState.UPGRADING
    assert "gave up" in (status.error or "")
    assert status.conditions[-1].reason == "waiting"


def test_savepoint_upgrade_restores_new_job_from_the_savepoint_it_took() -> None:
    world = fake_world()
    old_job = deployed(world)
    target = app(parallelism=3, args=("--rate", "20"))
    result = run(world, upgrade_plan(target), revision="rev2")
    assert result.ok, result.error
    api = world.runtime.api_for(APP)
    assert api.jobs[old_job].state == "FINISHED"
    new_jobs = api.running_jobs()
    assert len(new_jobs) == 1
    new = new_jobs[0]
    assert new.job_id == job_id_for(APP, 2) != old_job
    assert (new.parallelism, new.args) == (3, ("--rate", "20"))
    status = world.store.load(APP)
    assert status is not None
    savepoint = status.job_status.last_savepoint
    assert savepoint is not None and new.restored == savepoint.path
    assert (savepoint.trigger, savepoint.revision, savepoint.job_id) == (
        SnapshotTrigger.UPGRADE,
        "rev0",
        old_job,
    )
    assert status.job_status.upgrade_savepoint_path is None  # consumed once verified
    assert status.history[0].savepoint == savepoint.path
    assert status.reconciliation.last_applied_spec == target.to_manifest()["spec"]


def test_failed_savepoint_stalls_and_leaves_the_old_job_running() -> None:
    world = fake_world()
    old_job = deployed(world)
    world.runtime.api_for(APP).savepoint_failures = ["IO-problem detected"] * SNAPSHOT_ATTEMPTS
    result = run(world, upgrade_plan(app(parallelism=3)))
    assert not result.ok and result.next is Next.STALL
    assert "IO-problem" in (result.error or "")
    api = world.runtime.api_for(APP)
    assert [j.job_id for j in api.running_jobs()] == [old_job]
    assert world.journal.calls("flink").count("run_jar") == 1
    status = world.store.load(APP)
    assert status is not None and status.lifecycle_state is LifecycleState.FAILED
    assert status.job_status.failed_stops == SNAPSHOT_ATTEMPTS


def test_a_declined_stop_is_tried_again_under_a_trigger_of_its_own() -> None:
    world = fake_world()
    old_job = deployed(world)
    api = world.runtime.api_for(APP)
    api.savepoint_failures = ["CheckpointException: Task local checkpoint failure."]
    result = run(world, upgrade_plan(app(parallelism=3)))
    assert result.ok, result.error
    assert world.journal.calls("flink").count("stop_with_savepoint") == 2
    failed, taken = api.triggers.values()  # two trigger ids: Flink repeats a failed one
    assert failed.failure is not None and taken.location is not None
    status = world.store.load(APP)
    assert status is not None and status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.path == taken.location
    assert status.job_status.last_savepoint.job_id == old_job
    assert [j.restored for j in api.running_jobs()] == [taken.location]
    assert status.job_status.failed_stops == 0  # counted per job: the new one starts afresh


def test_a_stop_that_keeps_failing_is_tried_by_the_next_pass_under_a_new_trigger() -> None:
    world = fake_world()
    old_job = deployed(world)
    api = world.runtime.api_for(APP)
    api.savepoint_failures = ["IO-problem detected"] * SNAPSHOT_ATTEMPTS
    assert not run(world, upgrade_plan(app(parallelism=3))).ok
    assert len(api.triggers) == SNAPSHOT_ATTEMPTS
    # Flink still answers each of those ids with its failure; the retry posts a fourth.
    result = run(world, upgrade_plan(app(parallelism=3)))
    assert result.ok, result.error
    assert len(api.triggers) == SNAPSHOT_ATTEMPTS + 1
    assert api.jobs[old_job].stopped_with_savepoint
    status = world.store.load(APP)
    assert status is not None and status.job_status.job_id != old_job


def test_last_state_upgrade_restores_the_newest_checkpoint() -> None:
    world = fake_world()
    old_job = deployed(world, app(mode="last-state"))
    api = world.runtime.api_for(APP)
    api.complete_checkpoint(old_job)
    newest = api.complete_checkpoint(old_job)
    result = run(world, upgrade_plan(app(mode="last-state", parallelism=1), UpgradeMode.LAST_STATE))
    assert result.ok, result.error
    assert api.jobs[old_job].state == "CANCELED"
    assert [j.restored for j in api.running_jobs()] == [newest]
    status = world.store.load(APP)
    assert status is not None and status.job_status.last_checkpoint is not None
    assert status.job_status.last_checkpoint.kind is SnapshotKind.CHECKPOINT


def test_last_state_upgrade_without_a_checkpoint_takes_one_first() -> None:
    world = fake_world()
    deployed(world, app(mode="last-state"))
    result = run(world, upgrade_plan(app(mode="last-state", args=()), UpgradeMode.LAST_STATE))
    assert result.ok, result.error
    calls = world.journal.calls("flink")
    assert calls.index("trigger_checkpoint") < calls.index("cancel")
    restored = world.runtime.api_for(APP).running_jobs()[0].restored
    assert restored is not None and "checkpoint" in restored


def test_stateless_upgrade_cancels_and_starts_empty() -> None:
    world = fake_world()
    old_job = deployed(world, app(mode="stateless"))
    result = run(world, upgrade_plan(app(mode="stateless", args=()), UpgradeMode.STATELESS))
    assert result.ok, result.error
    api = world.runtime.api_for(APP)
    assert api.jobs[old_job].state == "CANCELED"
    assert [j.restored for j in api.running_jobs()] == [None]


def test_suspend_keeps_the_savepoint_and_resume_restores_from_it() -> None:
    world = fake_world()
    deployed(world)
    suspended = app(state="suspended")
    result = run(world, plan(suspended, Action.SUSPEND, StopJob(APP, UpgradeMode.SAVEPOINT)))
    assert result.ok, result.error
    status = world.store.load(APP)
    assert status is not None and status.lifecycle_state is LifecycleState.SUSPENDED
    kept = status.job_status.upgrade_savepoint_path
    assert kept is not None
    api = world.runtime.api_for(APP)
    assert api.running_jobs() == []
    resume = plan(app(), Action.RESUME, SubmitJob(APP, restore=Restore(RestoreSource.TAKEN)))
    assert run(world, resume).ok
    assert [j.restored for j in api.running_jobs()] == [kept]
    status = world.store.load(APP)
    assert status is not None and status.lifecycle_state is LifecycleState.STABLE


def test_savepoint_nonce_takes_one_savepoint_and_a_retry_reuses_it() -> None:
    world = fake_world()
    job_id = deployed(world)
    nonce = plan(app(savepointTriggerNonce=7), Action.SAVEPOINT, TakeSavepoint(APP))
    assert run(world, nonce).ok
    assert run(world, nonce).ok
    api = world.runtime.api_for(APP)
    assert len(api.jobs[job_id].savepoints) == 1
    status = world.store.load(APP)
    assert status is not None and status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.trigger is SnapshotTrigger.MANUAL
    assert [j.job_id for j in api.running_jobs()] == [job_id]


def test_checkpoint_nonce_records_the_checkpoint() -> None:
    world = fake_world()
    deployed(world)
    result = run(world, plan(app(checkpointTriggerNonce=1), Action.CHECKPOINT, TakeCheckpoint(APP)))
    assert result.ok, result.error
    status = world.store.load(APP)
    assert status is not None and status.job_status.last_checkpoint is not None


def test_delete_stops_with_savepoint_removes_cluster_and_status_and_repeats_cleanly() -> None:
    world = fake_world()
    deployed(world)
    delete = plan(None, Action.DELETE, StopJob(APP, UpgradeMode.SAVEPOINT), StopCluster(APP))
    result = run(world, delete)
    assert result.ok, result.error
    assert world.runtime.find_cluster(APP) is None
    tombstone = world.store.load(APP)
    assert tombstone is not None and tombstone.lifecycle_state is LifecycleState.DELETED
    assert tombstone.history[0].savepoint is not None  # the final savepoint, in the lineage
    assert run(world, delete).ok  # deleting what is gone succeeds


def test_submitting_a_job_id_that_already_runs_adopts_it() -> None:
    world = fake_world()
    job_id = deployed(world)
    status = world.store.load(APP)
    assert status is not None
    # As left by a crash right after the submission of this change reached Flink.
    status.pending = PendingChange(
        action=Action.DEPLOY,
        target_spec=app().to_manifest()["spec"],
        submitted_job_id=job_id,
        generation=1,
    )
    world.store.save(APP, status, "simulated crash after submit")
    result = run(world, plan(app(), Action.DEPLOY, SubmitJob(APP)))
    assert result.ok, result.error
    assert world.journal.calls("flink").count("run_jar") == 1
    assert "adopted" in result.outcomes[-1].detail
    assert world.store.load(APP).job_status.generation == 1  # type: ignore[union-attr]


def test_record_spec_changes_nothing_in_flink() -> None:
    world = fake_world()
    deployed(world)
    before = list(world.journal.calls("flink"))
    result = run(world, plan(app(autoscalerResetNonce=1), Action.UPGRADE, RecordSpec(APP)))
    assert result.ok
    assert world.journal.calls("flink") == before


def test_rescale_in_place_sets_parallelism_and_waits_for_it() -> None:
    world = fake_world()
    job_id = deployed(world)
    api = world.runtime.api_for(APP)
    api.complete_checkpoint(job_id)
    result = run(world, plan(app(parallelism=4), Action.SCALE, Rescale(APP, 4)))
    assert result.ok, result.error
    assert api.jobs[job_id].parallelism == 4
    assert [j.job_id for j in api.running_jobs()] == [job_id]


def test_rescale_on_flink_1_without_checkpoint_is_refused_for_the_next_pass_to_replan() -> None:
    world = fake_world()
    deployed(world)
    result = run(world, plan(app(parallelism=4), Action.SCALE, Rescale(APP, 4)))
    assert not result.ok and result.next is Next.WAIT
    assert "no checkpoint yet" in (result.error or "")
    assert "set_parallelism" not in world.journal.calls("flink")


def test_restore_from_taken_without_a_recorded_savepoint_refuses_to_start_empty() -> None:
    world = fake_world()
    deployed(world)
    result = run(world, plan(app(), Action.RESUME, SubmitJob(APP, Restore(RestoreSource.TAKEN))))
    assert not result.ok and result.next is Next.STALL
    assert world.journal.calls("flink").count("run_jar") == 1


def test_restore_from_a_missing_savepoint_fails_and_never_starts_empty() -> None:
    world = fake_world()
    world.runtime.ensure_cluster(APP, app().spec)
    restore = Restore(RestoreSource.PATH, "file:/nowhere/savepoint-1")
    result = run(world, plan(app(), Action.DEPLOY, SubmitJob(APP, restore)))
    assert not result.ok
    assert world.runtime.api_for(APP).running_jobs() == []


def test_session_job_runs_on_its_session_cluster() -> None:
    world = fake_world()
    assert run(
        world, plan(session_cluster(), Action.DEPLOY, StartCluster(SESSION), target=SESSION)
    ).ok
    job = plan(session_job(), Action.DEPLOY, SubmitJob(SESSION_JOB), target=SESSION_JOB)
    result = run(world, job)
    assert result.ok, result.error
    assert [j.job_id for j in world.runtime.api_for(SESSION).running_jobs()] == [
        job_id_for(SESSION_JOB, 1)
    ]


def test_blocked_plan_records_the_reason_once() -> None:
    world = fake_world()
    deployed(world)
    blocked = plan(app(), Action.BLOCKED)
    blocked = type(blocked)(
        resource=APP, action=Action.BLOCKED, diff=blocked.diff, blocked="no savepoint"
    )
    first = run(world, blocked)
    saves = len(world.store.saves)
    second = run(world, blocked)
    assert not first.ok and not second.ok
    assert len(world.store.saves) == saves, "the same reason is not written twice"
    status = world.store.load(APP)
    assert status is not None and status.error == "no savepoint"


def test_session_job_created_again_skips_job_ids_its_cluster_already_ran() -> None:
    world = fake_world()
    run(world, plan(session_cluster(), Action.DEPLOY, StartCluster(SESSION), target=SESSION))
    submit = plan(session_job(), Action.DEPLOY, SubmitJob(SESSION_JOB), target=SESSION_JOB)
    assert run(world, submit).ok
    api = world.runtime.api_for(SESSION)
    api.cancel(job_id_for(SESSION_JOB, 1))
    world.store.delete(SESSION_JOB, "deleted from Git")  # the status, and its generation, are gone
    result = run(world, submit)
    assert result.ok, result.error
    assert [j.job_id for j in api.running_jobs()] == [job_id_for(SESSION_JOB, 2)]
