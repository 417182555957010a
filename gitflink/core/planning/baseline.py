"""A baseline without a status store: what the base revision says is deployed, assumed healthy.

Used by `gitflink plan` on a pull request: each job is assumed to run as the base revision
specifies (running or suspended), to be able to take a savepoint and to have completed a
checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitflink.model.ids import ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import (
    AnyResource,
    FlinkDeployment,
    FlinkSessionJob,
    JobState,
    UpgradeMode,
)
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
    SnapshotKind,
)

# Stands for the savepoint or checkpoint a suspend would have recorded; never executed, since
# the executor always plans from the real status.
ASSUMED_SNAPSHOT = "<savepoint or checkpoint recorded at suspend>"
# A healthy running job has completed a checkpoint; with none, a pass plans a rescale on Flink
# 1.x as a full upgrade instead (planning_scale), and the plan's note names this assumption.
ASSUMED_CHECKPOINT = "<the running job's latest checkpoint, assumed>"


def observed_from_revision(
    resources: Iterable[AnyResource], revision: str | None = None
) -> dict[ResourceId, Observed]:
    return {resource.id: assumed(resource, revision) for resource in resources}


def assumed(resource: AnyResource, revision: str | None = None) -> Observed:
    spec = resource.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    reconciliation = ReconciliationStatus(last_applied_spec=spec)
    if not isinstance(resource, FlinkDeployment | FlinkSessionJob):
        return Observed(status=ResourceStatus(reconciliation=reconciliation))
    job = resource.spec.job
    running = job is None or job.state is JobState.RUNNING
    job_status = JobStatus(state=None if job is None else ("RUNNING" if running else "SUSPENDED"))
    if job is not None and not running and job.upgrade_mode is not UpgradeMode.STATELESS:
        kind = (
            SnapshotKind.SAVEPOINT
            if job.upgrade_mode is UpgradeMode.SAVEPOINT
            else SnapshotKind.CHECKPOINT
        )
        job_status.last_savepoint = Snapshot(path=ASSUMED_SNAPSHOT, kind=kind, revision=revision)
    status = ResourceStatus(
        lifecycle_state=LifecycleState.STABLE if running else LifecycleState.SUSPENDED,
        reconciliation=reconciliation,
        job_status=job_status,
        applied_revision=revision,
    )
    live = (
        LiveJob(
            job_id=str(resource.id),
            state="RUNNING",
            all_vertices_running=True,
            latest_checkpoint=ASSUMED_CHECKPOINT,
        )
        if job is not None and running
        else None
    )
    version = None
    if isinstance(resource, FlinkDeployment) and resource.spec.flink_version is not None:
        major, minor = resource.spec.flink_version.major_minor
        version = f"{major}.{minor}"
    return Observed(
        status=status,
        cluster_running=isinstance(resource, FlinkDeployment) and running,
        job=live,
        flink_version=version,
    )
