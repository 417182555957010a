"""Which savepoint holds the state of the job a Git revision ran: the one lineage lookup that
`gitflink rollback --to` uses (docs/rollback.md). It reads the lineage the status already keeps:
every savepoint (`jobStatus.savepointHistory`, `lastSavepoint`) names the revision whose spec
ran the job that took it, and each history entry the savepoint its change took."""

from __future__ import annotations

from itertools import pairwise

from gitflink.model.status import ResourceStatus, Snapshot, SnapshotKind


def savepoint_for(status: ResourceStatus, revision: str) -> Snapshot | None:
    """The newest savepoint taken from a job that ran `revision`'s spec (a full sha, or a
    prefix of at least 7 characters); None when none is recorded."""
    if len(revision) < 7:
        return None
    job = status.job_status
    taken = [*job.savepoint_history, *([job.last_savepoint] if job.last_savepoint else [])]
    ran = [
        s
        for s in taken
        if s.kind is SnapshotKind.SAVEPOINT and s.revision and s.revision.startswith(revision)
    ]
    if ran:
        return max(ran, key=lambda s: (s.taken_at is not None, s.taken_at or 0))
    # The stop savepoint of the change that left `revision` is in the entry of the change after
    # it (history is newest first).
    for newer, entry in pairwise(status.history):
        if entry.revision and entry.revision.startswith(revision) and newer.savepoint:
            return Snapshot(path=newer.savepoint, revision=entry.revision)
    return None
