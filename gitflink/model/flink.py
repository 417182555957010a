"""Typed views of Flink REST responses and requests, independent of Flink version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


def flink_time(millis: object) -> datetime | None:
    """A Flink timestamp (epoch milliseconds, by the JobManager's clock); None when unset."""
    if isinstance(millis, bool) or not isinstance(millis, int | float) or millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC)


@dataclass(frozen=True, slots=True)
class ClusterOverview:
    flink_version: str  # "1.20.5", "2.3.0"
    taskmanagers: int
    slots_total: int
    slots_available: int
    jobs_running: int

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.flink_version.split(".")[:2]
        return int(major), int(minor)


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A job as `GET /jobs/overview` lists it: one call per cluster covers all its jobs."""

    job_id: str
    name: str
    state: str
    tasks_total: int | None = None  # None: the source did not report task counts
    tasks_running: int | None = None
    # When this run of the job started (Flink's `start-time`): a JobManager that starts the
    # job again (restarted without HA) reports a newer one under the same job id.
    start_time: datetime | None = None

    @property
    def all_tasks_running(self) -> bool:
        """As JobDetails.all_vertices_running: Flink says RUNNING while tasks still deploy."""
        return (
            self.state == "RUNNING"
            and self.tasks_total is not None
            and self.tasks_running == self.tasks_total
        )


@dataclass(frozen=True, slots=True)
class Vertex:
    vertex_id: str
    name: str
    parallelism: int
    status: str


@dataclass(frozen=True, slots=True)
class JobDetails:
    job_id: str
    name: str
    state: str
    vertices: tuple[Vertex, ...] = ()
    start_time: datetime | None = None  # as JobSummary.start_time

    @property
    def all_vertices_running(self) -> bool:
        """Flink says RUNNING while tasks still deploy; only vertices tell the truth."""
        return self.state == "RUNNING" and all(v.status == "RUNNING" for v in self.vertices)


@dataclass(frozen=True, slots=True)
class RunRequest:
    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None
    job_id: str | None = None
    savepoint_path: str | None = None
    allow_non_restored_state: bool = False
    claim_mode: str = "NO_CLAIM"


@dataclass(frozen=True, slots=True)
class JobStart:
    """What an application cluster starts its job with: gitflink's deterministic job id (so a
    retry recognises the job it started) and the savepoint or checkpoint to restore."""

    job_id: str
    restore_path: str | None = None
    allow_non_restored_state: bool = False


class OperationState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class AsyncOperation:
    """A savepoint, stop-with-savepoint or checkpoint trigger, as its status endpoint reports.

    Flink reports COMPLETED for failures too; the adapter maps a failure-cause to FAILED.
    """

    state: OperationState
    location: str | None = None
    failure: str | None = None
    checkpoint_id: int | None = None  # set for a completed checkpoint trigger


@dataclass(frozen=True, slots=True)
class CheckpointStats:
    latest_completed: str | None = None
    latest_completed_id: int | None = None
    latest_savepoint: str | None = None
    # How the latest savepoint was taken: SAVEPOINT, or SYNC_SAVEPOINT for a stop-with-savepoint
    # (which finished the job), as Flink 1.15 and later report it.
    latest_savepoint_type: str | None = None
    restored: str | None = None
    restored_is_savepoint: bool = False


@dataclass(frozen=True, slots=True)
class VertexMetric:
    name: str
    min: float
    max: float
    avg: float
    sum: float


@dataclass(frozen=True, slots=True)
class JobExceptions:
    root_cause: str | None = None
    history: tuple[str, ...] = field(default=())
