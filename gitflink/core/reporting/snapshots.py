"""A FlinkStateSnapshot's status in the operator's shape, from its plan and what executing it
did: COMPLETED with the path, TRIGGER_PENDING again after a failure within `backoffLimit`,
FAILED beyond it, ABANDONED when its job did not run. IN_PROGRESS is saved by the executor
before the trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gitflink.model.plan import ABANDONED, JobPlan, TakeCheckpoint, TakeSavepoint
from gitflink.model.resources import FlinkStateSnapshot
from gitflink.model.status import (
    LineageEntry,
    ResourceStatus,
    SnapshotKind,
    SnapshotState,
    SnapshotStatus,
)

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
