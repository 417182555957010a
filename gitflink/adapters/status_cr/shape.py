"""ResourceStatus to and from a custom resource (pure): the object gitflink applies for a
resource, and the `.status` it writes, in the Flink Kubernetes Operator's shape
(model.cr_status) with gitflink's own record under `.status.gitflink`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gitflink.model.cr_status import (
    GITFLINK_KEY,
    CheckpointInfo,
    CrCondition,
    CrJobStatus,
    CrReconciliationStatus,
    CrResourceStatus,
    CrSnapshotStatus,
    SavepointInfo,
    SnapshotInfo,
)
from gitflink.model.fingerprints import scrub
from gitflink.model.ids import API_VERSION, Kind, ResourceId
from gitflink.model.status import ResourceStatus, Snapshot

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "gitflink"
REVISION = "gitflink.io/revision"  # annotation: the Git revision of the spec


INSTANCE = "gitflink.io/instance"  # label: which gitflink (source) keeps the status


def is_managed(obj: dict[str, Any], instance: str | None = None) -> bool:
    """Labelled as gitflink's; with `instance`, as this gitflink's (another source's custom
    resources are another instance's status, as another data dir or status branch is)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY) != MANAGER:
        return False
    return instance is None or labels.get(INSTANCE) == instance


def scrubbed(status: ResourceStatus) -> dict[str, Any]:
    """gitflink's record as stored: secrets as fingerprints, as the file and Git stores do."""
    dumped = scrub(status.model_dump(mode="json", by_alias=True, exclude_none=True))
    return dumped if isinstance(dumped, dict) else {}


def spec_of(status: ResourceStatus) -> dict[str, Any] | None:
    """The Git spec the status is about: the change in flight, else the one last applied (a
    delete in flight targets no spec: the one last applied stays)."""
    if status.pending is not None and status.pending.target_spec:
        return status.pending.target_spec
    return status.reconciliation.last_applied_spec or None


def revision_of(status: ResourceStatus) -> str | None:
    if status.pending is not None and status.pending.revision:
        return status.pending.revision
    return status.applied_revision or status.observed_revision


def custom_resource(
    resource: ResourceId, spec: dict[str, Any], revision: str | None, instance: str
) -> dict[str, Any]:
    """What gitflink applies: the spec from Git (secrets fingerprinted), its label, its revision."""
    metadata: dict[str, Any] = {
        "name": resource.name,
        "namespace": resource.namespace,
        "labels": {MANAGED_BY: MANAGER, INSTANCE: instance},
    }
    if revision:
        metadata["annotations"] = {REVISION: revision}
    return {
        "apiVersion": API_VERSION,
        "kind": resource.kind.value,
        "metadata": metadata,
        "spec": scrub(spec),
    }


def cr_status(kind: Kind, status: ResourceStatus) -> dict[str, Any]:
    """`.status` of the custom resource: every field derived from the scrubbed record."""
    record = scrubbed(status)
    clean = ResourceStatus.model_validate(record)
    shape: CrResourceStatus | CrSnapshotStatus
    if kind is Kind.FLINK_STATE_SNAPSHOT:
        shape = _snapshot_status(clean)
    else:
        shape = _resource_status(clean)
    shape.gitflink = record
    return shape.model_dump(mode="json", by_alias=True, exclude_none=True)


def status_of(obj: dict[str, Any]) -> ResourceStatus | None:
    """gitflink's record in a custom resource; None when none was written yet. Raises
    ValueError (pydantic's ValidationError) for a record that does not parse."""
    record = (obj.get("status") or {}).get(GITFLINK_KEY)
    if record is None:
        return None
    return ResourceStatus.model_validate(record)


def _resource_status(status: ResourceStatus) -> CrResourceStatus:
    job = status.job_status
    reconciliation = status.reconciliation
    return CrResourceStatus(
        lifecycle_state=status.lifecycle_state.value,
        job_status=CrJobStatus(
            job_id=job.job_id,
            job_name=job.job_name,
            state=job.state,
            start_time=_millis_text(job.start_time),
            update_time=_millis_text(job.update_time),
            upgrade_savepoint_path=job.upgrade_savepoint_path,
            savepoint_info=SavepointInfo(
                last_savepoint=_snapshot(job.last_savepoint),
                savepoint_history=[_info(s) for s in job.savepoint_history],
            ),
            checkpoint_info=CheckpointInfo(last_checkpoint=_snapshot(job.last_checkpoint)),
        ),
        reconciliation_status=CrReconciliationStatus(
            reconciliation_timestamp=_millis(reconciliation.reconciled_at),
            last_reconciled_spec=_spec_text(
                reconciliation.last_applied_spec, first=reconciliation.last_stable_spec is None
            ),
            last_stable_spec=_spec_text(reconciliation.last_stable_spec, first=False),
            state=reconciliation.state.value,
        ),
        error=status.error,
        conditions=[
            CrCondition(
                type=c.type,
                status=c.status.value,
                reason=c.reason,
                message=c.message,
                last_transition_time=_iso(c.last_transition_time),
            )
            for c in status.conditions
        ]
        + [_running(status)],
    )


def _running(status: ResourceStatus) -> CrCondition:
    """The operator's `Running` condition, from the job's state as last observed."""
    job = status.job_status
    running = job.state == "RUNNING"
    return CrCondition(
        type="Running",
        status="True" if running else "False",
        reason="JobRunning" if running else "JobNotRunning",
        message=f"job {job.job_id} is {job.state}" if job.job_id and job.state else "no job runs",
        last_transition_time=_iso(job.start_time if running else job.update_time),
    )


def _snapshot_status(status: ResourceStatus) -> CrSnapshotStatus:
    taken = status.job_status.last_savepoint or status.job_status.last_checkpoint
    if status.error is not None:
        state = "FAILED"
    elif status.pending is not None:
        state = "IN_PROGRESS"
    elif taken is not None:
        state = "COMPLETED"
    else:
        state = "TRIGGER_PENDING"
    started = status.pending.started_at if status.pending is not None else None
    return CrSnapshotStatus(
        state=state,
        path=taken.path if taken is not None else None,
        error=status.error,
        failures=0 if status.error is None else 1,
        trigger_timestamp=_iso(started),
        result_timestamp=_iso(taken.taken_at) if taken is not None else None,
    )


def _spec_text(spec: dict[str, Any] | None, *, first: bool) -> str | None:
    """As the operator stores a spec: JSON text with the resource's metadata beside it."""
    if spec is None:
        return None
    meta = {"apiVersion": API_VERSION, "firstDeployment": first}
    return json.dumps({"spec": spec, "resource_metadata": meta}, sort_keys=True)


def _snapshot(snapshot: Snapshot | None) -> SnapshotInfo | None:
    return None if snapshot is None else _info(snapshot)


def _info(snapshot: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(
        location=snapshot.path,
        time_stamp=_millis(snapshot.taken_at),
        trigger_type=snapshot.trigger.value,
    )


def _millis(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


def _millis_text(at: datetime | None) -> str | None:
    millis = _millis(at)
    return None if millis is None else str(millis)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
