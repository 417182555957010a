"""Status of a managed resource: the operator's status model, typed, plus Git lineage.

The status is also gitflink's write-ahead log: `pending` records the change in flight and every
savepoint taken for it before the next destructive step runs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from gitflink.model.plan import Action
from gitflink.model.rollback import Rollback

HISTORY_LIMIT = 10
LINEAGE_LIMIT = 100  # lineage entries kept per resource, newest last


class StatusModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class LifecycleState(StrEnum):
    CREATED = "CREATED"
    DEPLOYED = "DEPLOYED"
    STABLE = "STABLE"
    UPGRADING = "UPGRADING"
    SUSPENDED = "SUSPENDED"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"
    DELETING = "DELETING"
    DELETED = "DELETED"


class ReconciliationState(StrEnum):
    DEPLOYED = "DEPLOYED"
    UPGRADING = "UPGRADING"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"


class SnapshotKind(StrEnum):
    SAVEPOINT = "savepoint"
    CHECKPOINT = "checkpoint"


class SnapshotTrigger(StrEnum):
    MANUAL = "MANUAL"
    PERIODIC = "PERIODIC"
    UPGRADE = "UPGRADE"
    UNKNOWN = "UNKNOWN"


class Snapshot(StatusModel):
    """A savepoint or checkpoint, tied to the Git revision whose job produced it (lineage)."""

    path: str
    kind: SnapshotKind = SnapshotKind.SAVEPOINT
    trigger: SnapshotTrigger = SnapshotTrigger.UNKNOWN
    taken_at: datetime | None = None
    revision: str | None = None
    job_id: str | None = None
    # The trigger id it was taken under (deterministic: a retried trigger is the same request).
    trigger_id: str | None = None
    # The FlinkStateSnapshot it was taken for: its life is that resource's (never trimmed with
    # the job's history; disposed when the resource leaves Git with disposeOnDelete).
    owner: str | None = None


class LineageEntry(StatusModel):
    """A savepoint or checkpoint taken or used, with the Git revision whose spec was running
    (taken) or was started from it (restored), and what it was for (docs/savepoints.md):
    `periodic`, `manual` (a trigger nonce, `gitflink savepoint`), `snapshot <name>` (a
    FlinkStateSnapshot), the action whose stop took it (`upgrade`, `suspend`, `delete`...),
    `restored` (a job started from it), `registered` (an existing savepoint, alreadyExists)."""

    revision: str | None = None
    at: datetime | None = None
    kind: SnapshotKind = SnapshotKind.SAVEPOINT
    path: str
    use: str
    job_id: str | None = None


class PeriodicFailure(StatusModel):
    """A periodic snapshot that failed: the next one waits a full interval from `at`, under a
    new trigger id (Flink would answer the failed trigger's id with the same failure)."""

    kind: SnapshotKind
    key: str  # the trigger key of the attempt that failed, without its retry suffix
    at: datetime
    error: str | None = None


class JobStatus(StatusModel):
    job_id: str | None = None
    job_name: str | None = None
    # Flink's JobStatus name as last observed: RUNNING, FINISHED, CANCELED, FAILED, ...
    state: str | None = None
    start_time: datetime | None = None  # when gitflink verified the job running (its clock)
    update_time: datetime | None = None
    # When the run gitflink verified started, as Flink reports it (the JobManager's clock, so
    # comparable with what Flink reports later): a newer one under the same job id is a run
    # the JobManager started by itself (docs/recovery.md#a-jobmanager-restarted-without-ha).
    flink_start_time: datetime | None = None
    # The savepoint (or checkpoint) the next start must restore from; set before the old job
    # is stopped or right after the stop returns it, cleared once a restore is verified.
    upgrade_savepoint_path: str | None = None
    last_savepoint: Snapshot | None = None
    last_checkpoint: Snapshot | None = None
    savepoint_history: list[Snapshot] = Field(default_factory=list)
    # The state the current job started from, as verified (taken_at: when it started from it):
    # until the job completes a checkpoint of its own, still its newest state.
    restored_from: Snapshot | None = None
    # Monotonic deployment generation; job ids are derived from (resource, generation).
    generation: int = 0
    # The job's task count (its vertices' parallelism summed) when gitflink last verified it:
    # Flink's job listing showing another count means the job was rescaled since.
    tasks: int | None = None
    # Savepoints dropped from `savepoint_history` whose data is still to be disposed: saved
    # before the disposal, so a crash never forgets one (docs/savepoints.md).
    disposing: list[str] = Field(default_factory=list)
    # The last failed periodic savepoint and checkpoint (one per kind).
    periodic_failures: list[PeriodicFailure] = Field(default_factory=list)
    # A one-off savepoint `gitflink savepoint` asked an agent for (its trigger key): taken by
    # the agent's next pass while the job runs, then cleared (docs/savepoints.md).
    savepoint_request: str | None = None
    # Stop-with-savepoint attempts of this job that Flink reported failed: each next attempt
    # posts a trigger id of its own (Flink repeats a failed trigger's failure for minutes).
    failed_stops: int = 0


class ReconciliationStatus(StatusModel):
    # Specs are stored as the manifest's `spec` mapping in upstream field names.
    last_applied_spec: dict[str, Any] | None = None
    last_stable_spec: dict[str, Any] | None = None
    last_stable_revision: str | None = None
    state: ReconciliationState = ReconciliationState.DEPLOYED
    reconciled_at: datetime | None = None
    # With rollback enabled, a change is watched (lifecycle DEPLOYED) until its job has run for
    # the stability window: the state it started from, which a rollback restores.
    upgrade_snapshot: Snapshot | None = None
    # Git's spec that is not run (rolled back, or `gitflink rollback`), and what runs instead.
    rollback: Rollback | None = None


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(StatusModel):
    type: str
    status: ConditionStatus
    reason: str
    message: str = ""
    last_transition_time: datetime | None = None


class StepOutcome(StatusModel):
    step: str
    ok: bool
    detail: str = ""
    at: datetime | None = None


class PendingChange(StatusModel):
    """The change in flight, gitflink's write-ahead record. Present from the first destructive
    step of a plan until the end of the pass that verified the desired state runs; each typed
    field is saved before the step that depends on it, so the planner can resume the change
    from what is recorded here and what Flink reports."""

    action: Action
    revision: str | None = None
    target_spec: dict[str, Any]
    started_at: datetime | None = None
    # The savepoint or checkpoint the stop of the old job recorded (saved before the next step).
    stop_snapshot: Snapshot | None = None
    # The job submitted for this change and its generation (saved before the submission).
    submitted_job_id: str | None = None
    generation: int | None = None
    # When that job was submitted: its readiness timeout counts from here (docs/rollback.md).
    submitted_at: datetime | None = None

    @property
    def ready_since(self) -> datetime | None:
        """What the readiness timeout counts from: the new job's submission, else (a cluster
        that must come up first) the change's start."""
        return self.submitted_at or self.started_at


class Recovery(StatusModel):
    """Recoveries of a resource that did not run as Git says (a lost cluster, a failed job, a
    change made outside Git): counted, so restarts back off, and cleared once the job has run
    for the stability window."""

    attempts: int = 0
    last_attempt_at: datetime | None = None
    reason: str | None = None


class HistoryEntry(StatusModel):
    revision: str | None
    action: str
    applied_at: datetime | None = None
    savepoint: str | None = None


class SnapshotState(StrEnum):
    TRIGGER_PENDING = "TRIGGER_PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"


class SnapshotStatus(StatusModel):
    """A FlinkStateSnapshot's status, in the operator's shape."""

    state: SnapshotState = SnapshotState.TRIGGER_PENDING
    path: str | None = None
    trigger_id: str | None = None
    trigger_timestamp: datetime | None = None
    result_timestamp: datetime | None = None
    failures: int = 0
    error: str | None = None


class ResourceStatus(StatusModel):
    lifecycle_state: LifecycleState = LifecycleState.CREATED
    job_status: JobStatus = Field(default_factory=JobStatus)
    reconciliation: ReconciliationStatus = Field(default_factory=ReconciliationStatus)
    pending: PendingChange | None = None
    recovery: Recovery | None = None
    error: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_revision: str | None = None
    applied_revision: str | None = None
    # The source that manages the resource (repository + branch + paths, like Flux's inventory):
    # another source never prunes or changes it.
    source: str | None = None
    last_plan: list[StepOutcome] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)  # newest first, HISTORY_LIMIT
    # Every savepoint and checkpoint taken or used, newest last (LINEAGE_LIMIT).
    lineage: list[LineageEntry] = Field(default_factory=list)
    # FlinkStateSnapshot resources only: the operator's snapshot status.
    snapshot: SnapshotStatus | None = None

    @property
    def watched(self) -> bool:
        """A change applied with rollback enabled whose job has not run for the stability
        window yet: it is rolled back if it fails (docs/rollback.md)."""
        rec = self.reconciliation
        return (
            self.lifecycle_state is LifecycleState.DEPLOYED
            and self.pending is None
            and rec.last_applied_spec is not None
            and rec.last_stable_spec != rec.last_applied_spec
        )
