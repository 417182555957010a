"""The savepoint history's retention rule: count and age limits, never the newest one nor one a
restore, a pending change, a history entry or a FlinkStateSnapshot still needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitflink.core.planning.retention import Retention, expired, retention_of
from gitflink.model.plan import Action
from gitflink.model.status import HistoryEntry, JobStatus, PendingChange, ResourceStatus, Snapshot

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def history(*ages_hours: float) -> list[Snapshot]:
    """Savepoints sp-0, sp-1... taken `age` hours before NOW, oldest first."""
    return [
        Snapshot(path=f"sp-{i}", taken_at=NOW - timedelta(hours=age))
        for i, age in enumerate(ages_hours)
    ]


def status(snapshots: list[Snapshot], **fields: object) -> ResourceStatus:
    job = JobStatus(savepoint_history=snapshots)
    return ResourceStatus(job_status=job, **fields)  # type: ignore[arg-type]


def test_count_limit_drops_the_oldest_beyond_it() -> None:
    found = status(history(5, 4, 3, 2, 1))
    assert expired(found, NOW, Retention(max_count=3)) == ("sp-0", "sp-1")


def test_age_limit_drops_older_ones_but_never_the_newest() -> None:
    found = status(history(50, 30, 26))
    assert expired(found, NOW, Retention(max_age=timedelta(hours=24))) == ("sp-0", "sp-1")


def test_within_both_limits_nothing_is_dropped() -> None:
    assert expired(status(history(3, 2, 1)), NOW, Retention()) == ()


def test_needed_savepoints_are_kept_whatever_their_age() -> None:
    snapshots = history(60, 50, 40, 30, 20)
    pending = PendingChange(
        action=Action.UPGRADE, target_spec={}, stop_snapshot=Snapshot(path="sp-1")
    )
    found = status(
        snapshots,
        pending=pending,
        history=[HistoryEntry(revision="abc", action="upgrade", savepoint="sp-2")],
    )
    found.job_status.upgrade_savepoint_path = "sp-0"
    found.job_status.restored_from = Snapshot(path="sp-3")
    assert expired(found, NOW, Retention(max_count=1, max_age=timedelta(hours=1))) == ()


def test_the_last_savepoint_and_snapshot_resources_are_kept() -> None:
    snapshots = history(60, 50, 40)
    snapshots[0] = snapshots[0].model_copy(update={"owner": "streaming/orders-sp"})
    found = status(snapshots)
    found.job_status.last_savepoint = snapshots[1]
    assert expired(found, NOW, Retention(max_count=1, max_age=timedelta(hours=1))) == ()


def test_retention_reads_the_operator_keys() -> None:
    config = {
        "kubernetes.operator.savepoint.history.max.count": "3",
        "kubernetes.operator.savepoint.history.max.age": "2 h",
        "kubernetes.operator.savepoint.dispose-on-delete": "true",
    }
    assert retention_of(config.get) == Retention(3, timedelta(hours=2), dispose=True)
    assert retention_of({}.get) == Retention(10, timedelta(hours=24), dispose=False)
    broken = {"kubernetes.operator.savepoint.history.max.age": "soon"}
    assert retention_of(broken.get).max_age == timedelta(hours=24)
