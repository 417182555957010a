"""Which cluster runs a resource's job, and the one order in which plans run (their phases)."""

from __future__ import annotations

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action, JobPlan
from gitflink.model.resources import AnyResource, FlinkSessionJob
from gitflink.model.status import ResourceStatus

STOPPING = frozenset({Action.DELETE, Action.SUSPEND, Action.ORPHANED})
# Stops first (snapshots, then session jobs, then clusters), then starts (clusters first).
_STOP_RANK = {Kind.FLINK_STATE_SNAPSHOT: 0, Kind.FLINK_SESSION_JOB: 1, Kind.FLINK_DEPLOYMENT: 2}
_START_RANK = {Kind.FLINK_DEPLOYMENT: 3, Kind.FLINK_SESSION_JOB: 4, Kind.FLINK_STATE_SNAPSHOT: 5}


def phase(plan: JobPlan) -> int:
    """The phase a plan runs in: plans of one phase may run at the same time, phases in order."""
    if plan.action in STOPPING:
        return _STOP_RANK[plan.resource.kind]
    return _START_RANK[plan.resource.kind]


def order(plan: JobPlan) -> tuple[int, ResourceId]:
    return phase(plan), plan.resource


def session_cluster(job: FlinkSessionJob) -> ResourceId:
    return ResourceId(Kind.FLINK_DEPLOYMENT, job.metadata.namespace, job.spec.deployment_name)


def cluster_of(
    resource: ResourceId, desired: AnyResource | None, status: ResourceStatus | None
) -> ResourceId | None:
    """The FlinkDeployment whose cluster runs `resource`: itself, or a session job's cluster as
    Git names it, else as its status last recorded it (removed from Git, or mid-change)."""
    if resource.kind is Kind.FLINK_DEPLOYMENT:
        return resource
    if resource.kind is not Kind.FLINK_SESSION_JOB:
        return None
    if isinstance(desired, FlinkSessionJob):
        return session_cluster(desired)
    name: object = None
    if status is not None:
        applied = status.reconciliation.last_applied_spec or {}
        pending = status.pending.target_spec if status.pending else {}
        name = pending.get("deploymentName") or applied.get("deploymentName")
    return ResourceId(Kind.FLINK_DEPLOYMENT, resource.namespace, str(name)) if name else None
