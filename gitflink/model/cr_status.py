"""The status of a custom resource in CR status mode: the Flink Kubernetes Operator's status shape
(what `kubectl`, dashboards and tools written for the operator read), and under `gitflink` the
whole ResourceStatus gitflink resumes from (its write-ahead record, recovery, history).

The operator's fields are derived from `gitflink` on every write (adapters/status_cr); only
`gitflink` is read back. The CRDs in schemas/ are generated from these models.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gitflink.model.status import StatusModel

GITFLINK_KEY = "gitflink"  # .status.gitflink: gitflink's own record (preserve-unknown-fields)


class SnapshotInfo(StatusModel):
    """The operator's Savepoint / Checkpoint: `timeStamp` in epoch milliseconds."""

    location: str | None = None
    time_stamp: int | None = None
    trigger_type: str | None = None
    format_type: str | None = None


class SavepointInfo(StatusModel):
    last_savepoint: SnapshotInfo | None = None
    savepoint_history: list[SnapshotInfo] = Field(default_factory=list)


class CheckpointInfo(StatusModel):
    last_checkpoint: SnapshotInfo | None = None


class CrJobStatus(StatusModel):
    """The operator's JobStatus: times as epoch-millisecond strings, as it writes them."""

    job_id: str | None = None
    job_name: str | None = None
    state: str | None = None
    start_time: str | None = None
    update_time: str | None = None
    upgrade_savepoint_path: str | None = None
    savepoint_info: SavepointInfo = Field(default_factory=SavepointInfo)
    checkpoint_info: CheckpointInfo = Field(default_factory=CheckpointInfo)


class CrReconciliationStatus(StatusModel):
    """The operator's ReconciliationStatus: each spec a JSON string of
    `{"spec": ..., "resource_metadata": {"apiVersion": ..., "firstDeployment": ...}}`."""

    reconciliation_timestamp: int | None = None
    last_reconciled_spec: str | None = None
    last_stable_spec: str | None = None
    state: str | None = None


class CrCondition(StatusModel):
    type: str
    status: str
    reason: str
    message: str = ""
    last_transition_time: str | None = None


class CrResourceStatus(StatusModel):
    """`.status` of a FlinkDeployment or FlinkSessionJob in CR status mode."""

    lifecycle_state: str | None = None
    job_status: CrJobStatus = Field(default_factory=CrJobStatus)
    reconciliation_status: CrReconciliationStatus = Field(default_factory=CrReconciliationStatus)
    error: str | None = None
    conditions: list[CrCondition] = Field(default_factory=list)
    gitflink: dict[str, Any] | None = Field(
        default=None, description="gitflink's own record (schemas/status.json): read back."
    )


class CrSnapshotStatus(StatusModel):
    """`.status` of a FlinkStateSnapshot: the operator's snapshot status (state one of
    TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED)."""

    state: str | None = None
    path: str | None = None
    error: str | None = None
    failures: int = 0
    trigger_id: str | None = None
    trigger_timestamp: str | None = None
    result_timestamp: str | None = None
    gitflink: dict[str, Any] | None = Field(
        default=None, description="gitflink's own record (schemas/status.json): read back."
    )
