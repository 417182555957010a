"""A FlinkStateSnapshot's status in the operator's shape, from its plan and what executing it
did: COMPLETED with the path, TRIGGER_PENDING again after a failure within `backoffLimit`,
FAILED beyond it, ABANDONED when its job did not run. IN_PROGRESS is saved by the executor
before the trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gitflink.model.plan import (
    ABANDONED,
    PERIODIC_RETRY,
    JobPlan,
    TakeCheckpoint,
    TakeSavepoint,
    describe,
)
from gitflink.model.resources import FlinkStateSnapshot
from gitflink.model.status import (
    LineageEntry,
    PeriodicFailure,
    ResourceStatus,
    SnapshotKind,
    SnapshotState,
    SnapshotStatus,
    StepOutcome,
)

HOUSEKEEPING_ERROR = "periodic snapshot or savepoint cleanup failed: "
DEFAULT_BACKOFF_LIMIT = 1  # the operator's default (FlinkStateSnapshotSpec.backoffLimit)


class Draft(Protocol):
    status: ResourceStatus

    def edit(self) -> ResourceStatus: ...


def track(
    draft: Draft, plan: JobPlan, now: datetime, *, ok: bool, ran: bool, error: str | None
) -> None:
    snapshot = plan.desired
    if not isinstance(snapshot, FlinkStateSnapshot):
        return
    before = draft.status.snapshot or SnapshotStatus()
    after = before
    if plan.blocked is not None and plan.blocked.startswith(ABANDONED):
        after = before.model_copy(update={"state": SnapshotState.ABANDONED, "error": plan.blocked})
    elif not ok:
        failures = before.failures + 1
        limit = snapshot.spec.backoff_limit
        limit = DEFAULT_BACKOFF_LIMIT if limit is None else limit
        state = SnapshotState.FAILED if 0 <= limit < failures else SnapshotState.TRIGGER_PENDING
        after = before.model_copy(update={"state": state, "failures": failures, "error": error})
    elif ran:
        after = _completed(draft.edit(), snapshot, plan, before, now)
    if after != before:
        draft.edit().snapshot = after


def _completed(
    status: ResourceStatus,
    snapshot: FlinkStateSnapshot,
    plan: JobPlan,
    before: SnapshotStatus,
    now: datetime,
) -> SnapshotStatus:
    spec = snapshot.spec
    update: dict[str, object] = {
        "state": SnapshotState.COMPLETED,
        "result_timestamp": now,
        "error": None,
    }
    if spec.savepoint is not None and spec.savepoint.already_exists:
        update["path"] = spec.savepoint.path
        if spec.savepoint.path:
            entry = LineageEntry(
                at=now, kind=SnapshotKind.SAVEPOINT, path=spec.savepoint.path, use="registered"
            )
            status.lineage = [*status.lineage, entry]
        return before.model_copy(update=update)
    taken = None
    if any(isinstance(step, TakeSavepoint) for step in plan.steps):
        taken = status.job_status.last_savepoint
    elif any(isinstance(step, TakeCheckpoint) for step in plan.steps):
        taken = status.job_status.last_checkpoint
    if taken is not None:
        update["path"] = taken.path
        update["trigger_id"] = taken.trigger_id or before.trigger_id
    return before.model_copy(update=update)


def housekeeping_failed(
    draft: Draft,
    plan: JobPlan,
    outcomes: tuple[StepOutcome, ...],
    error: str | None,
    now: datetime,
) -> None:
    """A periodic snapshot or the history's cleanup failed while the job runs on: said in
    `error` (the lifecycle stays), and a failed periodic trigger remembered so the next one
    waits an interval and uses a trigger id of its own."""
    status = draft.edit()
    failed = next((outcome.step for outcome in outcomes if not outcome.ok), None)
    for step in plan.steps:
        if not isinstance(step, TakeSavepoint | TakeCheckpoint) or step.key is None:
            continue
        if describe(step) != failed:
            continue
        kind = (
            SnapshotKind.SAVEPOINT if isinstance(step, TakeSavepoint) else SnapshotKind.CHECKPOINT
        )
        job = status.job_status
        failure = PeriodicFailure(
            kind=kind, key=step.key.split(PERIODIC_RETRY)[0], at=now, error=error
        )
        job.periodic_failures = [*(f for f in job.periodic_failures if f.kind is not kind), failure]
    status.error = f"{HOUSEKEEPING_ERROR}{error}"
    status.last_plan = list(outcomes)


def housekeeping_done(draft: Draft) -> None:
    """A later periodic snapshot or cleanup succeeded: the error it left is cleared."""
    error = draft.status.error
    if error is not None and error.startswith(HOUSEKEEPING_ERROR):
        draft.edit().error = None
