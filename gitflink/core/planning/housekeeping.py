"""What a running job gets while Git does not change it: periodic savepoints and checkpoints
(`kubernetes.operator.periodic.savepoint.interval`, `...periodic.checkpoint.interval`) and the
trimming of its savepoint history (retention), planned from facts like every other rule.

A periodic snapshot is due when the interval has passed since the newest snapshot of that kind
recorded for the job (or since the job started). Its trigger key is that moment, so a pass
resumed after a crash plans the same key and the executor re-attaches to the same trigger.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gitflink.core.planning.facts import Facts
from gitflink.core.planning.retention import expired, retention_of
from gitflink.core.quantities import seconds
from gitflink.model.plan import (
    ONE_OFF_USE,
    PERIODIC_RETRY,
    PERIODIC_USE,
    Action,
    JobPlan,
    Step,
    TakeCheckpoint,
    TakeSavepoint,
    TrimHistory,
)
from gitflink.model.status import Snapshot, SnapshotKind

SAVEPOINT_INTERVAL = "kubernetes.operator.periodic.savepoint.interval"
CHECKPOINT_INTERVAL = "kubernetes.operator.periodic.checkpoint.interval"
# Flink triggers checkpoints over REST from 1.17 (FLINK-27101).
CHECKPOINT_TRIGGER_SINCE = (1, 17)
PERIODIC = PERIODIC_USE


def housekeep(facts: Facts) -> JobPlan | None:
    """A plan for a running job Git does not change, or None when nothing is due."""
    now = facts.healing.now
    job = facts.status.job_status
    live = facts.observed.job
    if now is None or live is None or not live.is_running or live.job_id != job.job_id:
        return None
    steps: list[Step] = []
    notes: list[str] = []
    key = _due(facts, SnapshotKind.SAVEPOINT, job.last_savepoint, now)
    if job.savepoint_request is not None:  # `gitflink savepoint` asked the agent for one
        steps.append(TakeSavepoint(facts.resource, "MANUAL", ONE_OFF_USE, job.savepoint_request))
    elif key is not None:
        steps.append(TakeSavepoint(facts.resource, "PERIODIC", PERIODIC, key))
    key = _due(facts, SnapshotKind.CHECKPOINT, job.last_checkpoint, now)
    if key is not None:
        version = facts.flink_version()
        if version is not None and version >= CHECKPOINT_TRIGGER_SINCE:
            steps.append(TakeCheckpoint(facts.resource, "PERIODIC", PERIODIC, key))
        else:
            notes.append(f"{CHECKPOINT_INTERVAL} is ignored: Flink before 1.17 cannot trigger one")
    retention = retention_of(facts.config)
    drop = expired(facts.status, now, retention)
    if drop or job.disposing:
        steps.append(TrimHistory(facts.resource, drop, retention.dispose))
    if not steps and not notes:
        return None
    snapshot = next((s for s in steps if isinstance(s, TakeSavepoint | TakeCheckpoint)), None)
    action = Action.NONE
    if snapshot is not None:
        action = Action.SAVEPOINT if isinstance(snapshot, TakeSavepoint) else Action.CHECKPOINT
    return facts.plan(action, tuple(steps), notes=notes)


def _due(facts: Facts, kind: SnapshotKind, last: Snapshot | None, now: datetime) -> str | None:
    """The trigger key of a periodic snapshot due now, or None. After a failed attempt the next
    one waits a full interval from the failure, under a key of its own."""
    setting = SAVEPOINT_INTERVAL if kind is SnapshotKind.SAVEPOINT else CHECKPOINT_INTERVAL
    interval = _interval(facts.config(setting))
    job = facts.status.job_status
    taken = last.taken_at if last is not None else None
    since = job.start_time if taken is None else max(taken, job.start_time or taken)
    if interval is None or since is None:
        return None
    key = f"{PERIODIC}@{since.isoformat()}"
    failed = next((f for f in job.periodic_failures if f.kind is kind and f.key == key), None)
    if failed is not None:
        since, key = failed.at, f"{key}{PERIODIC_RETRY}{failed.at.isoformat()}"
    return key if now - since >= interval else None


def _interval(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        length = float(seconds(text))
    except ValueError:
        return None  # validation reports the value
    return timedelta(seconds=length) if length > 0 else None
