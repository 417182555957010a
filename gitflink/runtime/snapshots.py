"""TakeSavepoint and TakeCheckpoint: a snapshot while the job keeps running (trigger nonces,
periodic snapshots, FlinkStateSnapshots, `gitflink savepoint`)."""

from __future__ import annotations

from gitflink.model.errors import FlinkApiError
from gitflink.model.ids import derived_id
from gitflink.model.plan import TakeCheckpoint, TakeSavepoint
from gitflink.model.status import Snapshot, SnapshotKind, SnapshotTrigger
from gitflink.runtime.context import StepContext
from gitflink.runtime.flinkjobs import wait_operation


def running_job(ctx: StepContext) -> str:
    job_id = ctx.status.job_status.job_id
    if job_id is None:
        raise FlinkApiError(f"{ctx.resource.short}: no job recorded to snapshot")
    return job_id


def trigger_id(ctx: StepContext, step: TakeSavepoint | TakeCheckpoint) -> str:
    """Same job and key -> same trigger id: Flink treats a re-post as the same request, so a
    step retried after a crash re-attaches to the trigger it started."""
    job_id = running_job(ctx)
    kind = "savepoint" if isinstance(step, TakeSavepoint) else "checkpoint"
    if step.key is not None:
        return derived_id(ctx.resource, job_id, kind, step.key)
    nonce = ctx.job_spec().savepoint_trigger_nonce
    if isinstance(step, TakeCheckpoint):
        nonce = ctx.job_spec().checkpoint_trigger_nonce
    return derived_id(ctx.resource, job_id, kind, nonce, ctx.revision)


def take_savepoint(ctx: StepContext, step: TakeSavepoint) -> str:
    job_id = running_job(ctx)
    api = ctx.api()
    trigger = trigger_id(ctx, step)
    ctx.say(f"taking a savepoint of job {job_id[:8]}")
    api.trigger_savepoint(job_id, ctx.handle().savepoint_dir, trigger_id=trigger)
    operation = wait_operation(ctx, "savepoint", api.savepoint_status, job_id, trigger)
    path = operation.location or api.checkpoints(job_id).latest_savepoint
    if path is None:
        raise FlinkApiError(f"savepoint of job {job_id} completed without a location")
    snapshot = _snapshot(ctx, path, SnapshotKind.SAVEPOINT, step, trigger)
    ctx.record_snapshot(snapshot, step.use)
    if step.key is not None and step.key == ctx.status.job_status.savepoint_request:
        ctx.status.job_status.savepoint_request = None  # the request is done
    ctx.save(f"savepoint {path} taken ({step.use})")
    return f"savepoint {path}"


def take_checkpoint(ctx: StepContext, step: TakeCheckpoint) -> str:
    job_id = running_job(ctx)
    api = ctx.api()
    ctx.say(f"taking a checkpoint of job {job_id[:8]}")
    trigger = api.trigger_checkpoint(job_id, trigger_id=trigger_id(ctx, step))
    operation = wait_operation(ctx, "checkpoint", api.checkpoint_status, job_id, trigger)
    wanted = operation.checkpoint_id

    def listed() -> str | None:
        stats = api.checkpoints(job_id)
        newer = wanted is None or (stats.latest_completed_id or -1) >= wanted
        return stats.latest_completed if newer else None

    # Flink serves checkpoint statistics from a cache (web.refresh-interval, 3 s by default): a
    # checkpoint that just completed is listed there a moment later.
    path = operation.location or ctx.wait_for(
        f"for checkpoint {wanted} of job {job_id[:8]} to be listed", listed, ctx.timeouts.stop
    )
    snapshot = _snapshot(ctx, path, SnapshotKind.CHECKPOINT, step, trigger)
    ctx.record_snapshot(snapshot, step.use)
    ctx.save(f"checkpoint {path} taken ({step.use})")
    return f"checkpoint {path}"


def _snapshot(
    ctx: StepContext,
    path: str,
    kind: SnapshotKind,
    step: TakeSavepoint | TakeCheckpoint,
    trigger: str,
) -> Snapshot:
    return Snapshot(
        path=path,
        kind=kind,
        trigger=SnapshotTrigger(step.trigger),
        taken_at=ctx.ports.clock.now(),
        revision=ctx.status.applied_revision,
        job_id=running_job(ctx),
        trigger_id=trigger,
        owner=step.owner,
    )
