"""What is deployed now: the recorded status plus what the runtime and Flink report live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gitflink.model.status import ResourceStatus, Snapshot

# Flink job states a job does not leave by itself.
TERMINAL = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})


@dataclass(frozen=True, slots=True)
class LiveJob:
    """A job as Flink's REST API reports it right now."""

    job_id: str
    state: str  # Flink JobStatus: RUNNING, FINISHED, CANCELED, FAILED, RESTARTING...
    all_vertices_running: bool = False
    parallelism: int | None = None
    latest_checkpoint: str | None = None
    restored_from: str | None = None
    failure: str | None = None  # a FAILED job's root exception, first lines, secrets hidden
    stopped_with_savepoint: bool = False  # FINISHED by a stop-with-savepoint, not by its end
    # Failures Flink recorded since the job started (its exception history), when read: a job
    # watched after a change (rollback enabled) that restarts repeatedly is not stable.
    restarts: int = 0
    # When this run started, by the JobManager's clock (Flink's `start-time`).
    start_time: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.state == "RUNNING"

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True, slots=True)
class Observed:
    """Input to planning for one resource. `status` None means gitflink never deployed it."""

    status: ResourceStatus | None = None
    cluster_running: bool = False
    job: LiveJob | None = None
    flink_version: str | None = None  # as reported by the cluster's /overview, e.g. "1.20.5"
    # The cluster runs but short of what it was started with ("1 of 2 TaskManagers running").
    cluster_degraded: str | None = None
    # The newest completed checkpoint the cluster's storage retains for the recorded job, read
    # when Flink can no longer report it (the cluster or the job is gone).
    retained_checkpoint: Snapshot | None = None
    # Jobs that run in the resource's own (application) cluster but are not the recorded one.
    stray_jobs: tuple[str, ...] = ()
    # The cluster is managed by another status store (why, in words): nothing is planned for it.
    foreign: str | None = None

    @property
    def deployed(self) -> bool:
        return self.status is not None and self.status.reconciliation.last_applied_spec is not None
