"""A baseline from recorded status, without asking Flink: what gitflink last applied.

Used by `gitflink plan --data-dir/--status-repo` on a pull request, where Flink is out of reach:
each job is taken to be in the state its status last recorded, with the snapshots it recorded,
and a running job to have completed a checkpoint (as `baseline` assumes too).
"""

from __future__ import annotations

from collections.abc import Mapping

from gitflink.core.planning.baseline import ASSUMED_CHECKPOINT
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.status import LifecycleState, ResourceStatus

_CLUSTER_GONE = frozenset({LifecycleState.DELETED, LifecycleState.DELETING})


def observed_from_status(
    statuses: Mapping[ResourceId, ResourceStatus],
) -> dict[ResourceId, Observed]:
    return {rid: recorded(rid, status) for rid, status in statuses.items()}


def recorded(resource: ResourceId, status: ResourceStatus) -> Observed:
    job_status = status.job_status
    checkpoint = job_status.last_checkpoint.path if job_status.last_checkpoint else None
    live = None
    if job_status.job_id and job_status.state:
        running = job_status.state == "RUNNING"
        if running and checkpoint is None:
            # Status does not follow periodic checkpoints; a healthy running job has some. The
            # pass itself asks Flink and plans a full upgrade if there is none.
            checkpoint = ASSUMED_CHECKPOINT
        live = LiveJob(
            job_status.job_id,
            job_status.state,
            all_vertices_running=running,
            latest_checkpoint=checkpoint,
        )
    spec = status.reconciliation.last_applied_spec or {}
    version = spec.get("flinkVersion")
    return Observed(
        status=status,
        cluster_running=resource.kind is Kind.FLINK_DEPLOYMENT
        and status.lifecycle_state not in _CLUSTER_GONE,
        job=live,
        flink_version=_dotted(version) if isinstance(version, str) else None,
    )


def _dotted(flink_version: str) -> str:
    """'v1_20' -> '1.20', as Flink's /overview would report it (minus the patch)."""
    return flink_version.removeprefix("v").replace("_", ".")
