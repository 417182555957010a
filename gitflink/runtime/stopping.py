"""StopJob: stop-with-savepoint, last-state (record the checkpoint, then cancel), or cancel.

Idempotent: a job that is already stopped is not stopped again; a savepoint that completed before
a crash is found again (by its deterministic trigger id, or Flink's checkpoint statistics) and
never taken twice. A stop Flink reports failed (the job runs on) is counted in the status before
the next attempt, which posts a trigger id of its own: Flink answers a re-posted trigger id with
the result it cached, a failure included, for `rest.async.store-duration` (5 minutes).
"""

from __future__ import annotations

from gitflink.model.errors import ClusterError, SavepointFailed
from gitflink.model.flink import AsyncOperation
from gitflink.model.ids import derived_id
from gitflink.model.plan import StopJob
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import Snapshot, SnapshotKind, SnapshotTrigger
from gitflink.ports import FlinkApi
from gitflink.runtime.context import StateAtRisk, StepContext
from gitflink.runtime.flinkjobs import (
    SNAPSHOT_ATTEMPTS,
    TERMINAL,
    completed_savepoint,
    job_state,
    retried_while_running,
    wait_operation,
    wait_terminal,
)


def stop_job(ctx: StepContext, step: StopJob) -> str:
    job = ctx.status.job_status
    job_id = step.job_id or job.job_id
    if job_id is None:
        return "no job recorded: nothing to stop"
    if step.restore_next is not None and job.upgrade_savepoint_path != step.restore_next:
        # The write-ahead point: a pass interrupted after the cancel restores this state.
        job.upgrade_savepoint_path = step.restore_next
        ctx.save(f"the next start restores {step.restore_next}")
    try:
        api = ctx.api()
    except ClusterError:
        if step.mode is UpgradeMode.STATELESS or job.upgrade_savepoint_path:
            return "the cluster is gone, and the job with it"
        raise
    state = job_state(api, job_id)
    match step.mode:
        case UpgradeMode.SAVEPOINT:
            detail = _with_savepoint(ctx, api, job_id, state, drain=step.drain)
        case UpgradeMode.LAST_STATE:
            detail = _last_state(ctx, api, job_id, state)
        case UpgradeMode.STATELESS:
            detail = _cancel(ctx, api, job_id, state)
    job.update_time = ctx.ports.clock.now()
    return detail


def _with_savepoint(
    ctx: StepContext, api: FlinkApi, job_id: str, state: str | None, *, drain: bool
) -> str:
    job = ctx.status.job_status
    trigger_id = _stop_trigger_id(ctx, job_id)
    if state is None or state in TERMINAL:
        if job.upgrade_savepoint_path:
            return f"already stopped; savepoint {job.upgrade_savepoint_path}"
        path = completed_savepoint(api, job_id, trigger_id) if state else None
        if path is None and state == "FINISHED":
            path = api.checkpoints(job_id).latest_savepoint
        if path is None:
            raise StateAtRisk(
                f"job {job_id} is {state or 'gone'} and no savepoint of it is known: refusing to "
                "continue without its state (set job.initialSavepointPath to choose one)"
            )
        record_stop_snapshot(ctx, path, SnapshotKind.SAVEPOINT, job_id)
        ctx.save(f"savepoint {path} found after an interrupted stop")
        job.state = state
        return f"recovered savepoint {path} of the stopped job"
    operation = _stop_with_savepoint(ctx, api, job_id, drain=drain)
    path = operation.location or api.checkpoints(job_id).latest_savepoint
    if path is None:
        raise StateAtRisk(f"Flink reported the savepoint of job {job_id} done but no location")
    record_stop_snapshot(ctx, path, SnapshotKind.SAVEPOINT, job_id)
    # The write-ahead point: nothing else happens before the savepoint is durable in status.
    ctx.save(f"savepoint {path} taken, job {job_id} stopping")
    job.state = wait_terminal(ctx, api, job_id)
    return f"stopped with savepoint {path}"


def _stop_trigger_id(ctx: StepContext, job_id: str) -> str:
    """Derived from the job and its failed attempts: a stop retried after a crash asks Flink
    about the trigger it posted, one retried after a failure posts a new one."""
    failed = ctx.status.job_status.failed_stops
    return derived_id(ctx.resource, job_id, "stop", *([failed] if failed else []))


def _stop_with_savepoint(
    ctx: StepContext, api: FlinkApi, job_id: str, *, drain: bool
) -> AsyncOperation:
    """Stop-with-savepoint, tried again while the job runs on after a failure. Each failure is
    counted in the status, and saved, before the next attempt derives its trigger id from it."""
    job = ctx.status.job_status

    def attempt(_: int) -> AsyncOperation:
        trigger_id = _stop_trigger_id(ctx, job_id)
        ctx.say(f"stopping job {job_id[:8]} with a savepoint")
        api.stop_with_savepoint(
            job_id, ctx.handle().savepoint_dir, drain=drain, trigger_id=trigger_id
        )
        return wait_operation(ctx, "savepoint", api.savepoint_status, job_id, trigger_id)

    def failed(n: int, failure: SavepointFailed) -> None:
        job.failed_stops += 1
        ctx.save(f"stop {n} of {SNAPSHOT_ATTEMPTS} failed: {failure}")

    return retried_while_running(ctx, api, job_id, attempt, failed=failed)


def _last_state(ctx: StepContext, api: FlinkApi, job_id: str, state: str | None) -> str:
    job = ctx.status.job_status
    if state is None or state in TERMINAL:
        if job.upgrade_savepoint_path:
            return f"already stopped; checkpoint {job.upgrade_savepoint_path}"
        latest = api.checkpoints(job_id).latest_completed if state else None
        if latest is None:
            raise StateAtRisk(f"job {job_id} is {state or 'gone'} and has no known checkpoint")
        record_stop_snapshot(ctx, latest, SnapshotKind.CHECKPOINT, job_id)
        ctx.save(f"checkpoint {latest} found after an interrupted stop")
        return f"recovered checkpoint {latest} of the stopped job"
    latest = api.checkpoints(job_id).latest_completed
    if latest is None:
        ctx.say(f"job {job_id[:8]} has no checkpoint yet: taking one")
        trigger_id = api.trigger_checkpoint(job_id)
        operation = wait_operation(ctx, "checkpoint", api.checkpoint_status, job_id, trigger_id)
        latest = operation.location or api.checkpoints(job_id).latest_completed
        if latest is None:
            raise StateAtRisk(f"job {job_id} has no completed checkpoint to carry its state")
    record_stop_snapshot(ctx, latest, SnapshotKind.CHECKPOINT, job_id)
    ctx.save(f"checkpoint {latest} recorded, cancelling job {job_id}")
    ctx.say(f"cancelling job {job_id[:8]} (state kept in {latest})")
    api.cancel(job_id)
    job.state = wait_terminal(ctx, api, job_id)
    # A newer checkpoint may have completed before the cancel landed; Flink keeps the newest.
    newest = api.checkpoints(job_id).latest_completed if job.state != "GONE" else None
    if newest and newest != latest:
        record_stop_snapshot(ctx, newest, SnapshotKind.CHECKPOINT, job_id)
        ctx.save(f"checkpoint {newest} recorded after the cancel")
        latest = newest
    return f"cancelled; state kept in checkpoint {latest}"


def _cancel(ctx: StepContext, api: FlinkApi, job_id: str, state: str | None) -> str:
    if state is None or state in TERMINAL:
        return f"job {job_id} already {state or 'gone'}"
    ctx.say(f"cancelling job {job_id[:8]} (stateless)")
    api.cancel(job_id)
    ctx.status.job_status.state = wait_terminal(ctx, api, job_id)
    return f"cancelled job {job_id}"


def record_stop_snapshot(ctx: StepContext, path: str, kind: SnapshotKind, job_id: str) -> None:
    """The state the next job must start from, in the write-ahead record and the job's status;
    the caller saves it before anything else happens."""
    job = ctx.status.job_status
    snapshot = Snapshot(
        path=path,
        kind=kind,
        trigger=SnapshotTrigger.UPGRADE,
        taken_at=ctx.ports.clock.now(),
        revision=ctx.status.applied_revision,
        job_id=job_id,
    )
    job.upgrade_savepoint_path = path
    if ctx.status.pending is not None:
        ctx.status.pending.stop_snapshot = snapshot
    ctx.record_snapshot(snapshot, ctx.plan.action.value)
