"""Completed checkpoints found on disk, for a cluster that can no longer report them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from gitflink.model.status import Snapshot, SnapshotKind, SnapshotTrigger

_JOB_ID = re.compile(r"[0-9a-f]{32}")  # a job id becomes a directory name: nothing else may


def latest(checkpoint_dir: str, job_id: str) -> Snapshot | None:
    """The highest `chk-N` with a `_metadata` file under `<checkpoint_dir>/<job_id>/`: Flink
    writes `_metadata` last, so a checkpoint without it never completed."""
    if not checkpoint_dir.startswith("file:") or not _JOB_ID.fullmatch(job_id):
        return None
    root = Path(checkpoint_dir.removeprefix("file://").removeprefix("file:")) / job_id
    done = [
        (int(number), path)
        for path in root.glob("chk-*/_metadata")
        if (number := path.parent.name.removeprefix("chk-")).isdigit()
    ]
    if not done:
        return None
    _, newest = max(done)
    return Snapshot(
        path=f"file:{newest.parent}",
        kind=SnapshotKind.CHECKPOINT,
        trigger=SnapshotTrigger.PERIODIC,
        taken_at=datetime.fromtimestamp(newest.stat().st_mtime, tz=UTC),
        job_id=job_id,
    )
