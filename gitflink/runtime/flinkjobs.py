"""Small questions about one Flink job, answered the same way by every handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from gitflink.model.errors import (
    FlinkApiError,
    FlinkHttpError,
    FlinkTimeout,
    NotReady,
    RestoreFailed,
    SavepointFailed,
)
from gitflink.model.flink import AsyncOperation, JobDetails, OperationState
from gitflink.model.observed import TERMINAL
from gitflink.ports import FlinkApi
from gitflink.runtime.context import StepContext

__all__ = ["TERMINAL", "job_state"]

T = TypeVar("T")

SNAPSHOT_ATTEMPTS = 3  # in one step; the next pass (or interval, or backoff) starts over
SNAPSHOT_RETRY_PAUSE = 2.0  # seconds: a task that was starting or finishing has done so


def job_state(api: FlinkApi, job_id: str) -> str | None:
    """Flink's state for the job, or None when the cluster does not know it (404)."""
    try:
        return api.job_details(job_id).state
    except FlinkHttpError as error:
        if error.status == 404:
            return None
        raise


def wait_terminal(ctx: StepContext, api: FlinkApi, job_id: str) -> str:
    def check() -> str | None:
        state = job_state(api, job_id)
        return "GONE" if state is None else state if state in TERMINAL else None

    return ctx.wait_for(f"waiting for job {job_id} to stop", check, ctx.timeouts.stop)


# How Flink says a restore cannot work (FLINK-xxxx messages, stable since 1.x).
RESTORE_FAILURES = (
    "Cannot map checkpoint/savepoint state",
    "Failed to rollback to checkpoint/savepoint",
    "Cannot find checkpoint or savepoint",
    "allowNonRestoredState",
)


def restore_failure(message: str) -> bool:
    return any(sign in message for sign in RESTORE_FAILURES)


def wait_running(
    ctx: StepContext,
    api: FlinkApi,
    job_id: str,
    parallelism: int | None,
    *,
    restoring: str | None = None,
    ready_by_deadline: bool = False,
) -> JobDetails:
    """RUNNING means every vertex RUNNING (Flink says RUNNING while tasks still deploy), at the
    requested parallelism when one is given. A job that fails restoring `restoring` raises
    RestoreFailed (never retried as is). `ready_by_deadline`: a change's new job, which gives up
    at the change's readiness deadline when that comes first (NotReady)."""

    def check() -> JobDetails | None:
        details = api.job_details(job_id)
        if details.state in TERMINAL:
            cause = api.job_exceptions(job_id).root_cause or "no exception reported"
            message = f"job {job_id} went {details.state}: {cause}"
            if restoring is not None and restore_failure(cause):
                raise RestoreFailed(f"{message} (restoring {restoring})")
            raise FlinkApiError(message)
        if not details.all_vertices_running:
            return None
        if parallelism is not None and any(v.parallelism != parallelism for v in details.vertices):
            return None
        return details

    ctx.say(f"waiting for every task of job {job_id[:8]} to run")
    what = f"waiting for job {job_id} to run"
    left = ctx.readiness_left() if ready_by_deadline else None
    if left is not None and left < ctx.timeouts.running:
        try:
            details: JobDetails = ctx.wait_for(what, check, max(left, 0.0))
        except FlinkTimeout as error:
            raise NotReady(
                f"job {job_id} did not run with every task within the readiness timeout "
                f"({ctx.plan.ready_within:g}s)"
            ) from error
    else:
        details = ctx.wait_for(what, check, ctx.timeouts.running)
    ctx.status.job_status.tasks = sum(vertex.parallelism for vertex in details.vertices)
    ctx.status.job_status.flink_start_time = details.start_time
    return details


def wait_operation(
    ctx: StepContext,
    what: str,
    poll: Callable[[str, str], AsyncOperation],
    job_id: str,
    trigger_id: str,
) -> AsyncOperation:
    """Poll a savepoint/checkpoint trigger; a failure (COMPLETED with a cause) raises."""

    def check() -> AsyncOperation | None:
        operation = poll(job_id, trigger_id)
        return None if operation.state is OperationState.IN_PROGRESS else operation

    clock, started = ctx.ports.clock, ctx.ports.clock.monotonic()
    outcome = "timeout"  # wait_for raises when the time is up
    try:
        operation = ctx.wait_for(f"waiting for the {what}", check, ctx.timeouts.savepoint)
        outcome = "failed" if operation.state is OperationState.FAILED else "ok"
    finally:
        elapsed = clock.monotonic() - started
        labels = {"kind": what, "outcome": outcome}
        ctx.ports.meter.observe("gitflink_snapshot_duration_seconds", elapsed, labels)
    if operation.state is OperationState.FAILED:
        raise SavepointFailed(f"{what} of job {job_id} failed: {operation.failure}")
    return operation


def retried_while_running(
    ctx: StepContext,
    api: FlinkApi,
    job_id: str,
    attempt: Callable[[int], T],
    *,
    failed: Callable[[int, SavepointFailed], None] | None = None,
    attempts: int = SNAPSHOT_ATTEMPTS,
) -> T:
    """`attempt(n)` (n from 1) until one succeeds, while the job runs on after a failure: Flink
    declines a savepoint or checkpoint while a task is starting or finishing ("Task local
    checkpoint failure"), and a moment later takes it. Each attempt must post a trigger id of its
    own: Flink answers a re-posted id with the result it cached, a failure included, for
    `rest.async.store-duration`. `failed(n, error)` hears of each failure before the next try."""
    n = 1
    while True:
        try:
            return attempt(n)
        except SavepointFailed as failure:
            if failed is not None:
                failed(n, failure)
            if n >= attempts or job_state(api, job_id) != "RUNNING":
                raise
        ctx.ports.clock.sleep(SNAPSHOT_RETRY_PAUSE)
        n += 1


def completed_savepoint(api: FlinkApi, job_id: str, trigger_id: str) -> str | None:
    """The location of a finished savepoint trigger, or None if Flink no longer knows it."""
    try:
        operation = api.savepoint_status(job_id, trigger_id)
    except FlinkHttpError as error:
        if error.status == 404:
            return None
        raise
    return operation.location if operation.state is OperationState.COMPLETED else None
