"""TakeSavepoint and TakeCheckpoint: a snapshot while the job keeps running (trigger nonces,
periodic snapshots, FlinkStateSnapshots, `gitflink savepoint`).

A snapshot Flink declines while the job runs on is tried again in the same step, each attempt
under a trigger id of its own (Flink answers a re-posted id with its cached failure); the ids
follow from the step and the attempt, so a step retried after a crash re-attaches to the triggers
it posted. A FlinkStateSnapshot has one attempt per step: its `backoffLimit` counts the rest."""

from __future__ import annotations

from gitflink.model.errors import FlinkApiError
from gitflink.model.flink import AsyncOperation
from gitflink.model.ids import derived_id
from gitflink.model.plan import TakeCheckpoint, TakeSavepoint
from gitflink.model.status import Snapshot, SnapshotKind, SnapshotTrigger
from gitflink.runtime.context import StepContext
from gitflink.runtime.flinkjobs import SNAPSHOT_ATTEMPTS, retried_while_running, wait_operation


def running_job(ctx: StepContext) -> str:
    job_id = ctx.status.job_status.job_id
    if job_id is None:
        raise FlinkApiError(f"{ctx.resource.short}: no job recorded to snapshot")
    return job_id


def trigger_id(ctx: StepContext, step: TakeSavepoint | TakeCheckpoint, attempt: int = 1) -> str:
    """Same job, key and attempt -> same trigger id: Flink treats a re-post as the same request,
    so a step retried after a crash re-attaches to the trigger it started."""
    job_id = running_job(ctx)
    kind = "savepoint" if isinstance(step, TakeSavepoint) else "checkpoint"
    again = [attempt] if attempt > 1 else []
    if step.key is not None:
        return derived_id(ctx.resource, job_id, kind, step.key, *again)
    nonce = ctx.job_spec().savepoint_trigger_nonce
    if isinstance(step, TakeCheckpoint):
        nonce = ctx.job_spec().checkpoint_trigger_nonce
    return derived_id(ctx.resource, job_id, kind, nonce, ctx.revision, *again)


def _attempts(step: TakeSavepoint | TakeCheckpoint) -> int:
    return 1 if step.owner is not None else SNAPSHOT_ATTEMPTS


def take_savepoint(ctx: StepContext, step: TakeSavepoint) -> str:
    job_id = running_job(ctx)
    api = ctx.api()

    def attempt(n: int) -> tuple[str, AsyncOperation]:
        trigger = trigger_id(ctx, step, n)
        ctx.say(f"taking a savepoint of job {job_id[:8]}")
        api.trigger_savepoint(job_id, ctx.handle().savepoint_dir, trigger_id=trigger)
        return trigger, wait_operation(ctx, "savepoint", api.savepoint_status, job_id, trigger)

    trigger, operation = retried_while_running(ctx, api, job_id, attempt, attempts=_attempts(step))
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

    def attempt(n: int) -> tuple[str, AsyncOperation]:
        ctx.say(f"taking a checkpoint of job {job_id[:8]}")
        trigger = api.trigger_checkpoint(job_id, trigger_id=trigger_id(ctx, step, n))
        return trigger, wait_operation(ctx, "checkpoint", api.checkpoint_status, job_id, trigger)

    trigger, operation = retried_while_running(ctx, api, job_id, attempt, attempts=_attempts(step))
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
