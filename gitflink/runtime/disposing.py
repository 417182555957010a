"""TrimHistory and DisposeSnapshot: savepoints dropped by the retention rule, or by a
FlinkStateSnapshot leaving Git, and their data disposed through Flink's savepoint disposal.

Write-ahead: a savepoint leaves the history and enters `disposing` in one save, before Flink is
asked to dispose it; it leaves `disposing` once the disposal completed. A crash in between
disposes it on a later pass; no path the history still lists is ever disposed.
"""

from __future__ import annotations

from gitflink.core.planning.topology import cluster_of
from gitflink.model.errors import SavepointFailed
from gitflink.model.flink import AsyncOperation, OperationState
from gitflink.model.plan import DisposeSnapshot, TrimHistory
from gitflink.ports import FlinkApi
from gitflink.runtime.context import StepContext

# Flink's answer when the data is gone already: the disposal is done.
GONE = ("FileNotFoundException", "does not exist", "Cannot find", "NoSuchFile")


def trim_history(ctx: StepContext, step: TrimHistory) -> str:
    job = ctx.status.job_status
    dropped = set(step.drop)
    if dropped:
        job.savepoint_history = [s for s in job.savepoint_history if s.path not in dropped]
        if step.dispose:
            job.disposing = [*job.disposing, *(p for p in step.drop if p not in job.disposing)]
        ctx.save(f"{len(dropped)} savepoint(s) dropped from the history")
    disposed = 0
    for path in list(job.disposing):
        dispose(ctx, ctx.api(), path)
        job.disposing = [p for p in job.disposing if p != path]
        ctx.save(f"savepoint {path} disposed")
        disposed += 1
    kept = "" if step.dispose or not dropped else " (data kept: dispose-on-delete is off)"
    return f"{len(dropped)} dropped from the history, {disposed} disposed{kept}"


def dispose_snapshot(ctx: StepContext, step: DisposeSnapshot) -> str:
    cluster = cluster_of(step.job, None, ctx.ports.status.load(step.job))
    handle = ctx.ports.runtime.find_cluster(cluster) if cluster is not None else None
    if handle is None:
        return f"data of {step.path} kept: the cluster of {step.job.short} is not running"
    dispose(ctx, ctx.ports.flink(handle.rest_url), step.path)
    return f"disposed {step.path}"


def dispose(ctx: StepContext, api: FlinkApi, path: str) -> None:
    """Dispose `path` and wait for Flink to finish; data already gone counts as disposed."""
    ctx.say(f"disposing savepoint {path}")
    trigger = api.dispose_savepoint(path)

    def check() -> AsyncOperation | None:
        operation = api.disposal_status(trigger)
        return None if operation.state is OperationState.IN_PROGRESS else operation

    operation = ctx.wait_for(f"disposing {path}", check, ctx.timeouts.savepoint)
    failure = operation.failure or ""
    if operation.state is OperationState.FAILED and not any(s in failure for s in GONE):
        raise SavepointFailed(f"disposing savepoint {path} failed: {failure}")
