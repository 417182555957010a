"""What is deployed now, per resource: the recorded status plus what the runtime and Flink report.

Read-only and fresh every pass, per cluster: one `GET /jobs/overview` gives every job's state;
job details and checkpoint statistics are read only on clusters where a resource may need
them. A cluster that does not answer marks its own resources unreachable rather than "no job",
so nothing is planned for them on a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gitflink.core import redaction
from gitflink.core.planning.topology import cluster_of
from gitflink.model.errors import FlinkApiError, FlinkHttpError
from gitflink.model.fingerprints import unredact
from gitflink.model.flink import JobSummary
from gitflink.model.ids import ResourceId
from gitflink.model.observed import TERMINAL, LiveJob, Observed
from gitflink.model.resources import AnyResource, FlinkDeployment, FlinkSessionJob, UpgradeMode
from gitflink.model.secrets import is_sensitive
from gitflink.model.status import ResourceStatus, Snapshot
from gitflink.ports import ClusterHandle, FlinkApi, Ports

FAILURE_LINES = 4  # of a failed job's root exception, kept in status


@dataclass(frozen=True)
class Observation:
    observed: dict[ResourceId, Observed] = field(default_factory=dict)
    unreachable: dict[ResourceId, str] = field(default_factory=dict)  # resource -> why
    detailed: set[ResourceId] = field(default_factory=set)  # read in depth (details, checkpoints)


_Row = tuple[ResourceId, AnyResource | None, ResourceStatus | None]


def observe(
    ports: Ports,
    desired: Iterable[AnyResource],
    statuses: Mapping[ResourceId, ResourceStatus],
) -> Observation:
    """Every resource Git declares or a status records, observed fresh, cluster by cluster."""
    wanted = {resource.id: resource for resource in desired}
    rows: list[_Row] = [(rid, res, statuses.get(rid)) for rid, res in wanted.items()]
    rows.extend((rid, None, st) for rid, st in statuses.items() if rid not in wanted)
    by_cluster: dict[ResourceId | None, list[_Row]] = {}
    for row in rows:
        by_cluster.setdefault(cluster_of(*row), []).append(row)
    result = Observation()
    for cluster, group in by_cluster.items():
        handle = ports.runtime.find_cluster(cluster) if cluster else None
        if handle is None:
            for rid, res, status in group:
                retained = _retained(ports, cluster, res, status)
                result.observed[rid] = Observed(status=status, retained_checkpoint=retained)
            continue
        if handle.foreign is not None:
            for rid, _, status in group:
                result.observed[rid] = Observed(status=status, foreign=handle.foreign)
            continue
        try:
            _cluster(ports, handle, group, result)
        except FlinkApiError as error:
            why = f"Flink at {handle.rest_url} did not answer: {error}"
            for rid, _, _ in group:
                result.observed.pop(rid, None)
                result.detailed.discard(rid)
                result.unreachable[rid] = why
    return result


def _cluster(ports: Ports, handle: ClusterHandle, group: list[_Row], result: Observation) -> None:
    api = ports.flink(handle.rest_url)
    listed = {job.job_id: job for job in api.list_jobs()}  # the liveness probe as well
    # In depth for all of a cluster's resources or none: a session cluster's change carries
    # its jobs, whose restore paths it then needs.
    deep = any(_needs_details(res, st, listed) for _, res, st in group)
    version = handle.flink_version
    if deep and version is None:
        version = api.overview().flink_version
    recorded = {st.job_status.job_id for _, _, st in group if st is not None}
    recorded |= {st.pending.submitted_job_id for _, _, st in group if st and st.pending}
    for rid, res, status in group:
        job_id = status.job_status.job_id if status else None
        if deep:
            watched = status is not None and status.watched
            job = _live_job(api, job_id, _secrets(res), watched=watched) if job_id else None
            result.detailed.add(rid)
        else:
            summary = listed.get(job_id) if job_id else None
            job = _summary_job(summary) if summary else None
        retained = None
        if job is None and job_id is not None:
            retained = _retained(ports, handle.resource, res, status)
        stray: tuple[str, ...] = ()
        if rid == handle.resource and isinstance(res, FlinkDeployment) and res.spec.job:
            stray = tuple(
                sorted(
                    summary.job_id
                    for summary in listed.values()
                    if summary.state not in TERMINAL and summary.job_id not in recorded
                )
            )
        result.observed[rid] = Observed(
            status,
            True,
            job,
            version,
            cluster_degraded=handle.degraded,
            retained_checkpoint=retained,
            stray_jobs=stray,
        )


def _needs_details(
    desired: AnyResource | None,
    status: ResourceStatus | None,
    listed: Mapping[str, JobSummary],
) -> bool:
    """Whether planning may read more than the job's state: checkpoints, the restored path,
    parallelism, the Flink version. An unchanged resource whose job runs with all its tasks
    plans NONE without them."""
    if status is None or status.pending is not None or status.recovery is not None:
        return True  # new, a change in flight (its resumption reads the restored path), or
        # a recovery whose job may fail again
    if status.watched:
        return True  # a change under watch: its restarts are counted
    if not isinstance(desired, FlinkDeployment | FlinkSessionJob):
        return True  # removed from Git: its deletion may take a savepoint
    job_id = status.job_status.job_id
    if job_id is not None:
        summary = listed.get(job_id)
        if summary is None or not summary.all_tasks_running:
            return True  # gone, failed, restarting or deploying: report it fully
        recorded = status.job_status.tasks
        if None not in (recorded, summary.tasks_total) and recorded != summary.tasks_total:
            return True  # rescaled since gitflink verified it: read its parallelism
    applied = status.reconciliation.last_applied_spec
    # What the executor records as applied (RecordSpec), secrets as fingerprints.
    target = desired.to_manifest().get("spec", {})
    return applied is None or unredact(applied, target) != target


def _summary_job(summary: JobSummary) -> LiveJob:
    return LiveJob(
        summary.job_id,
        summary.state,
        all_vertices_running=summary.all_tasks_running,
        start_time=summary.start_time,
    )


def _retained(
    ports: Ports,
    cluster: ResourceId | None,
    desired: AnyResource | None,
    status: ResourceStatus | None,
) -> Snapshot | None:
    """The newest checkpoint storage still holds for the recorded job of a stateful resource
    that Flink can no longer report (its cluster, or the job, is gone)."""
    job_id = status.job_status.job_id if status else None
    if cluster is None or job_id is None:
        return None
    if isinstance(desired, FlinkDeployment | FlinkSessionJob):
        job = desired.spec.job
        if job is None or job.upgrade_mode is UpgradeMode.STATELESS:
            return None
    return ports.runtime.latest_checkpoint(cluster, job_id)


def _secrets(desired: AnyResource | None) -> tuple[str, ...]:
    """Secret values a failure message could quote: the resource's sensitive settings."""
    if not isinstance(desired, FlinkDeployment | FlinkSessionJob):
        return ()
    config = desired.spec.flink_configuration
    return tuple(str(v) for k, v in config.items() if is_sensitive(k) and v not in (None, ""))


def _failure(api: FlinkApi, job_id: str, secrets: tuple[str, ...]) -> str:
    cause = api.job_exceptions(job_id).root_cause or "Flink reported no exception"
    text = "\n".join(cause.strip().splitlines()[:FAILURE_LINES])
    for secret in secrets:
        text = text.replace(secret, redaction.HIDDEN)
    return str(redaction.redact(text))


def _live_job(
    api: FlinkApi, job_id: str, secrets: tuple[str, ...] = (), *, watched: bool = False
) -> LiveJob | None:
    """`watched`: a change under its stability watch, whose restarts are counted."""
    try:
        details = api.job_details(job_id)
    except FlinkHttpError as error:
        if error.status == 404:
            return None  # the cluster no longer knows it (restarted, or job archived away)
        raise
    stats = api.checkpoints(job_id)
    latest = stats.latest_completed
    stopped = False
    if details.state == "FINISHED":
        # A finished job discarded its periodic checkpoints; what it left is the savepoint of
        # the stop that finished it.
        latest = stats.latest_savepoint
        stopped = stats.latest_savepoint_type == "SYNC_SAVEPOINT"
    parallelism = max((v.parallelism for v in details.vertices), default=None)
    failure = _failure(api, job_id, secrets) if details.state == "FAILED" else None
    restarts = len(api.job_exceptions(job_id).history) if watched else 0
    return LiveJob(
        job_id=job_id,
        state=details.state,
        all_vertices_running=details.all_vertices_running,
        parallelism=parallelism,
        latest_checkpoint=latest,
        restored_from=stats.restored,
        failure=failure,
        stopped_with_savepoint=stopped,
        restarts=restarts,
        start_time=details.start_time,
    )
