"""What is deployed now, per resource: the recorded status plus what the runtime and Flink report.

Read-only. A cluster that does not answer is reported as unreachable rather than as "no job",
so nothing is planned for it on a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gitflink.model.errors import FlinkApiError, FlinkHttpError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import AnyResource, FlinkSessionJob
from gitflink.model.status import ResourceStatus
from gitflink.ports import FlinkApi, Ports


@dataclass(frozen=True)
class Observation:
    observed: dict[ResourceId, Observed] = field(default_factory=dict)
    unreachable: dict[ResourceId, str] = field(default_factory=dict)  # resource -> why


def cluster_of(
    resource: ResourceId, desired: AnyResource | None, status: ResourceStatus | None
) -> ResourceId | None:
    """The FlinkDeployment whose cluster runs `resource` (itself, or a session job's cluster)."""
    if resource.kind is Kind.FLINK_DEPLOYMENT:
        return resource
    if resource.kind is not Kind.FLINK_SESSION_JOB:
        return None
    name: object = None
    if isinstance(desired, FlinkSessionJob):
        name = desired.spec.deployment_name
    elif status is not None:
        applied = status.reconciliation.last_applied_spec or {}
        pending = status.pending.target_spec if status.pending else {}
        name = applied.get("deploymentName") or pending.get("deploymentName")
    return ResourceId(Kind.FLINK_DEPLOYMENT, resource.namespace, str(name)) if name else None


def observe(
    ports: Ports,
    desired: Iterable[AnyResource],
    statuses: Mapping[ResourceId, ResourceStatus],
) -> Observation:
    wanted = {resource.id: resource for resource in desired}
    result = Observation()
    for rid in sorted(set(wanted) | set(statuses)):
        status = statuses.get(rid)
        cluster = cluster_of(rid, wanted.get(rid), status)
        handle = ports.runtime.find_cluster(cluster) if cluster else None
        if handle is None:
            result.observed[rid] = Observed(status=status)
            continue
        try:
            api = ports.flink(handle.rest_url)
            version = api.overview().flink_version
            job_id = status.job_status.job_id if status else None
            job = _live_job(api, job_id) if job_id else None
        except FlinkApiError as error:
            result.unreachable[rid] = f"Flink at {handle.rest_url} did not answer: {error}"
            continue
        result.observed[rid] = Observed(
            status=status, cluster_running=True, job=job, flink_version=version
        )
    return result


def _live_job(api: FlinkApi, job_id: str) -> LiveJob | None:
    try:
        details = api.job_details(job_id)
    except FlinkHttpError as error:
        if error.status == 404:
            return None  # the cluster no longer knows it (restarted, or job archived away)
        raise
    stats = api.checkpoints(job_id)
    latest = stats.latest_completed
    if details.state == "FINISHED":
        # A finished job discarded its periodic checkpoints; what it left is the savepoint of
        # the stop that finished it.
        latest = stats.latest_savepoint
    parallelism = max((v.parallelism for v in details.vertices), default=None)
    return LiveJob(
        job_id=job_id,
        state=details.state,
        all_vertices_running=details.all_vertices_running,
        parallelism=parallelism,
        latest_checkpoint=latest,
        restored_from=stats.restored,
    )
