"""What is deployed now, per resource: the recorded status plus what the runtime and Flink report.

Read-only, per cluster: one `GET /jobs/overview` gives every job's state; job details and
checkpoint statistics are read only on clusters where a resource may need them. A cluster that
does not answer marks its own resources unreachable rather than "no job", so nothing is planned
for them on a guess.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gitflink.model.errors import FlinkApiError, FlinkHttpError
from gitflink.model.fingerprints import unredact
from gitflink.model.flink import JobSummary
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import AnyResource, FlinkDeployment, FlinkSessionJob
from gitflink.model.status import ResourceStatus
from gitflink.ports import ClusterHandle, FlinkApi, Ports


@dataclass(frozen=True)
class Observation:
    observed: dict[ResourceId, Observed] = field(default_factory=dict)
    unreachable: dict[ResourceId, str] = field(default_factory=dict)  # resource -> why
    detailed: set[ResourceId] = field(default_factory=set)  # read in depth (details, checkpoints)


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


_Row = tuple[ResourceId, AnyResource | None, ResourceStatus | None]
_Same = dict[int, tuple[AnyResource, ResourceStatus, bool]]  # by id() of the manifest object
# By id() of the status object: what its job looked like in the listing, and what was built.
_Seen = dict[int, tuple[ResourceStatus, tuple[str, bool] | None, str | None, Observed]]


@dataclass
class _Memory:
    same: _Same = field(default_factory=dict)
    seen: _Seen = field(default_factory=dict)


class Observer:
    """Observes a pass's resources. Keep one across passes (PassConfig holds it): it remembers,
    for the manifest and status objects it was decided on, whether the desired spec is the one
    last applied, so a quiet pass does not compare 1,000 specs again."""

    def __init__(self) -> None:
        self._memory = _Memory()
        self._lock = threading.Lock()

    def observe(
        self,
        ports: Ports,
        desired: Iterable[AnyResource],
        statuses: Mapping[ResourceId, ResourceStatus],
    ) -> Observation:
        # Each resource is looked up once: ids hash in Python, and 1,000 of them add up.
        wanted = {resource.id: resource for resource in desired}
        rows: list[_Row] = [(rid, res, statuses.get(rid)) for rid, res in wanted.items()]
        if sum(1 for row in rows if row[2] is not None) < len(statuses):  # some left Git
            rows.extend((rid, None, st) for rid, st in statuses.items() if rid not in wanted)
        by_cluster: dict[ResourceId | None, list[_Row]] = {}
        for row in rows:
            by_cluster.setdefault(cluster_of(*row), []).append(row)
        result = Observation()
        with self._lock:
            previous, self._memory = self._memory, _Memory()
            for cluster, group in by_cluster.items():
                handle = ports.runtime.find_cluster(cluster) if cluster else None
                if handle is None:
                    for rid, _, status in group:
                        result.observed[rid] = Observed(status=status)
                    continue
                try:
                    self._cluster(ports, handle, group, previous, result)
                except FlinkApiError as error:
                    why = f"Flink at {handle.rest_url} did not answer: {error}"
                    for rid, _, _ in group:
                        result.observed.pop(rid, None)
                        result.detailed.discard(rid)
                        result.unreachable[rid] = why
        return result

    def _cluster(
        self,
        ports: Ports,
        handle: ClusterHandle,
        group: list[_Row],
        previous: _Memory,
        result: Observation,
    ) -> None:
        api = ports.flink(handle.rest_url)
        listed = {job.job_id: job for job in api.list_jobs()}  # the liveness probe as well
        # In depth for all of a cluster's resources or none: a session cluster's change
        # carries its jobs, whose restore paths it then needs.
        needs = [self._needs_details(res, st, listed, previous.same) for _, res, st in group]
        deep = any(needs)
        version = handle.flink_version
        if deep and version is None:
            version = api.overview().flink_version
        for rid, _, status in group:
            job_id = status.job_status.job_id if status else None
            if deep:
                job = _live_job(api, job_id) if job_id else None
                result.detailed.add(rid)
                result.observed[rid] = Observed(status, True, job, version)
            else:
                summary = listed.get(job_id) if job_id else None
                result.observed[rid] = self._shallow(status, summary, version, previous.seen)

    def _shallow(
        self,
        status: ResourceStatus | None,
        summary: JobSummary | None,
        version: str | None,
        previous: _Seen,
    ) -> Observed:
        """The job as listed. The Observed of the last pass when nothing differs: planning's
        memo then recognises it by identity, with no comparison at all."""
        if status is None:
            return Observed(None, True, None, version)
        job = (summary.state, summary.all_tasks_running) if summary else None
        known = previous.get(id(status))
        if known is not None and known[0] is status and (known[1], known[2]) == (job, version):
            seen = known[3]
        else:
            live = _summary_job(summary) if summary else None
            seen = Observed(status, True, live, version)
        self._memory.seen[id(status)] = (status, job, version, seen)
        return seen

    def _needs_details(
        self,
        desired: AnyResource | None,
        status: ResourceStatus | None,
        listed: Mapping[str, JobSummary],
        previous: _Same,
    ) -> bool:
        """Whether planning may read more than the job's state: checkpoints, the restored path,
        parallelism, the Flink version. An unchanged resource whose job runs with all its tasks
        plans NONE without them."""
        if status is None or status.pending is not None:
            return True  # new, or a change in flight (its resumption reads the restored path)
        if not isinstance(desired, FlinkDeployment | FlinkSessionJob):
            return True  # removed from Git: its deletion may take a savepoint
        same = self._same_spec(desired, status, previous)
        job_id = status.job_status.job_id
        if job_id is not None:
            summary = listed.get(job_id)
            if summary is None or not summary.all_tasks_running:
                return True  # gone, failed, restarting or deploying: report it fully
        return not same

    def _same_spec(
        self,
        desired: FlinkDeployment | FlinkSessionJob,
        status: ResourceStatus,
        previous: _Same,
    ) -> bool:
        known = previous.get(id(desired))
        if known is not None and known[0] is desired and known[1] is status:
            same = known[2]
        else:
            applied = status.reconciliation.last_applied_spec
            # What the executor records as applied (RecordSpec), secrets as fingerprints.
            target = desired.to_manifest().get("spec", {})
            same = applied is not None and unredact(applied, target) == target
        self._memory.same[id(desired)] = (desired, status, same)
        return same


def observe(
    ports: Ports,
    desired: Iterable[AnyResource],
    statuses: Mapping[ResourceId, ResourceStatus],
) -> Observation:
    """One observation without memory across passes (the CLI's `plan`, tests)."""
    return Observer().observe(ports, desired, statuses)


def _summary_job(summary: JobSummary) -> LiveJob:
    return LiveJob(summary.job_id, summary.state, all_vertices_running=summary.all_tasks_running)


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
