"""Which savepoints a job's history keeps: at most `max.count`, none older than `max.age`, but
never the newest completed one nor one still needed to restore or to go back to a revision.

Pure: the rule reads the status and the time given; docs/savepoints.md has the rules in words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gitflink.core.quantities import seconds
from gitflink.model.status import HISTORY_LIMIT, ResourceStatus, Snapshot

MAX_COUNT = "kubernetes.operator.savepoint.history.max.count"
MAX_AGE = "kubernetes.operator.savepoint.history.max.age"
DISPOSE_ON_DELETE = "kubernetes.operator.savepoint.dispose-on-delete"


@dataclass(frozen=True, slots=True)
class Retention:
    max_count: int = 10
    max_age: timedelta = timedelta(hours=24)
    dispose: bool = False  # dispose the data of what the history drops


def retention_of(config: Callable[[str], str | None]) -> Retention:
    """The resource's retention from its Flink configuration (operator keys); an unreadable
    value keeps the default (validation reports it)."""
    default = Retention()
    count, age = config(MAX_COUNT), config(MAX_AGE)
    max_count = default.max_count
    if count is not None and count.strip().isdigit():
        max_count = max(1, int(count.strip()))
    max_age = default.max_age
    if age is not None:
        with contextlib.suppress(ValueError):
            max_age = timedelta(seconds=float(seconds(age)))
    dispose = (config(DISPOSE_ON_DELETE) or "false").strip().lower() == "true"
    return Retention(max_count, max_age, dispose)


def needed(status: ResourceStatus) -> set[str]:
    """Paths a restore or a way back still needs: the pending restore point, a change's stop
    snapshot, the state the current job started from, a rollback's restore point, the savepoint
    a watched change started from, and every savepoint a history entry within the history
    limit references (the last stable restore point among them)."""
    job = status.job_status
    paths = {entry.savepoint for entry in status.history[:HISTORY_LIMIT] if entry.savepoint}
    rollback = status.reconciliation.rollback
    if rollback is not None and rollback.restore_point:
        paths.add(rollback.restore_point)
    if status.reconciliation.upgrade_snapshot is not None:
        paths.add(status.reconciliation.upgrade_snapshot.path)
    if job.upgrade_savepoint_path:
        paths.add(job.upgrade_savepoint_path)
    if status.pending is not None and status.pending.stop_snapshot is not None:
        paths.add(status.pending.stop_snapshot.path)
    if job.restored_from is not None:
        paths.add(job.restored_from.path)
    if job.last_savepoint is not None:
        paths.add(job.last_savepoint.path)
    return paths


def expired(status: ResourceStatus, now: datetime, retention: Retention) -> tuple[str, ...]:
    """Savepoints of the history to drop, oldest first: beyond the count or the age, unless
    needed, owned by a FlinkStateSnapshot, or the newest one."""
    history = status.job_status.savepoint_history
    if not history:
        return ()
    keep = needed(status) | {history[-1].path}
    remaining = len(history)
    dropped: list[str] = []
    for snapshot in history[:-1]:  # oldest first
        if snapshot.path in keep or snapshot.owner is not None:
            continue
        if remaining > retention.max_count or _older(snapshot, now, retention.max_age):
            dropped.append(snapshot.path)
            remaining -= 1
    return tuple(dropped)


def _older(snapshot: Snapshot, now: datetime, max_age: timedelta) -> bool:
    return snapshot.taken_at is not None and now - snapshot.taken_at > max_age
