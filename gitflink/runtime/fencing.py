"""The fence around the mutating ports: `fenced(ports, fence)` gives Ports whose every write (a
cluster started, changed or deleted, a Flink REST call that changes a job, a status saved or
deleted) first asks the fence, which raises NotLeader when this agent cannot prove it leads.
Reads pass through. The executor knows nothing of it: NotLeader aborts the pass as a whole.

Writes inside one port call (the Kubernetes runtime applies several objects while it waits for
them) are fenced again where they are sent: wiring gives the same fence to the Kubernetes
requests (adapters.kubernetes_runtime.requests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitflink.model.flink import (
    AsyncOperation,
    CheckpointStats,
    ClusterOverview,
    JobDetails,
    JobExceptions,
    JobStart,
    JobSummary,
    RunRequest,
    VertexMetric,
)
from gitflink.model.ids import ResourceId
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import ResourceStatus, Snapshot
from gitflink.ports import (
    ClusterHandle,
    Fence,
    FlinkApi,
    FlinkApiFactory,
    FlinkRuntime,
    Ports,
    RevertPublisher,
    RevertRequest,
    StatusStore,
)


def fenced(ports: Ports, fence: Fence) -> Ports:
    return dataclasses.replace(
        ports,
        runtime=FencedRuntime(ports.runtime, fence),
        flink=FencedFlink(ports.flink, fence),
        status=FencedStatus(ports.status, fence),
        reverts=None if ports.reverts is None else FencedReverts(ports.reverts, fence),
    )


class FencedReverts:
    """A revert branch is pushed only by the leader (two agents would race to push it)."""

    def __init__(self, inner: RevertPublisher, fence: Fence) -> None:
        self.inner, self._fence = inner, fence

    def publish(self, request: RevertRequest) -> bool:
        self._fence.check("push a revert branch")
        return self.inner.publish(request)


class FencedRuntime:
    def __init__(self, inner: FlinkRuntime, fence: Fence) -> None:
        self.inner, self._fence = inner, fence

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        self._fence.check(f"start or change the cluster of {resource.short}")
        return self.inner.ensure_cluster(resource, spec, revision=revision)

    def start_application(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        start: JobStart,
        *,
        revision: str | None = None,
    ) -> bool:
        self._fence.check(f"start the application {resource.short}")
        return self.inner.start_application(resource, spec, start, revision=revision)

    def delete_cluster(self, resource: ResourceId, *, keep_ha: bool = True) -> None:
        self._fence.check(f"delete the cluster of {resource.short}")
        self.inner.delete_cluster(resource, keep_ha=keep_ha)

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None:
        return self.inner.find_cluster(resource)

    def list_clusters(self) -> Sequence[ClusterHandle]:
        return self.inner.list_clusters()

    def latest_checkpoint(self, resource: ResourceId, job_id: str) -> Snapshot | None:
        return self.inner.latest_checkpoint(resource, job_id)

    def resolve_jar(self, jar_uri: str) -> Path:
        return self.inner.resolve_jar(jar_uri)


class FencedFlink:
    """FlinkApiFactory whose clients are fenced."""

    def __init__(self, inner: FlinkApiFactory, fence: Fence) -> None:
        self.inner, self._fence = inner, fence

    def __call__(self, rest_url: str) -> FlinkApi:
        return FencedFlinkApi(self.inner(rest_url), self._fence)


class FencedFlinkApi:
    def __init__(self, inner: FlinkApi, fence: Fence) -> None:
        self.inner, self._fence = inner, fence

    # -- writes -------------------------------------------------------------------------

    def upload_jar(self, path: Path) -> str:
        self._fence.check("upload a jar")
        return self.inner.upload_jar(path)

    def run_jar(self, jar_id: str, request: RunRequest) -> str:
        self._fence.check("submit a job")
        return self.inner.run_jar(jar_id, request)

    def delete_jar(self, jar_id: str) -> None:
        self._fence.check("delete a jar")
        self.inner.delete_jar(jar_id)

    def trigger_savepoint(
        self, job_id: str, target_dir: str | None, *, trigger_id: str | None = None
    ) -> str:
        self._fence.check(f"trigger a savepoint of job {job_id}")
        return self.inner.trigger_savepoint(job_id, target_dir, trigger_id=trigger_id)

    def stop_with_savepoint(
        self,
        job_id: str,
        target_dir: str | None,
        *,
        drain: bool = False,
        trigger_id: str | None = None,
    ) -> str:
        self._fence.check(f"stop job {job_id}")
        return self.inner.stop_with_savepoint(
            job_id, target_dir, drain=drain, trigger_id=trigger_id
        )

    def trigger_checkpoint(self, job_id: str, *, trigger_id: str | None = None) -> str:
        self._fence.check(f"trigger a checkpoint of job {job_id}")
        return self.inner.trigger_checkpoint(job_id, trigger_id=trigger_id)

    def dispose_savepoint(self, path: str) -> str:
        self._fence.check(f"dispose the savepoint {path}")
        return self.inner.dispose_savepoint(path)

    def cancel(self, job_id: str) -> None:
        self._fence.check(f"cancel job {job_id}")
        self.inner.cancel(job_id)

    def set_parallelism(self, job_id: str, parallelism: dict[str, int]) -> None:
        self._fence.check(f"rescale job {job_id}")
        self.inner.set_parallelism(job_id, parallelism)

    # -- reads --------------------------------------------------------------------------

    def overview(self) -> ClusterOverview:
        return self.inner.overview()

    def list_jobs(self) -> Sequence[JobSummary]:
        return self.inner.list_jobs()

    def job_details(self, job_id: str) -> JobDetails:
        return self.inner.job_details(job_id)

    def job_exceptions(self, job_id: str) -> JobExceptions:
        return self.inner.job_exceptions(job_id)

    def checkpoints(self, job_id: str) -> CheckpointStats:
        return self.inner.checkpoints(job_id)

    def savepoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return self.inner.savepoint_status(job_id, trigger_id)

    def checkpoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return self.inner.checkpoint_status(job_id, trigger_id)

    def disposal_status(self, trigger_id: str) -> AsyncOperation:
        return self.inner.disposal_status(trigger_id)

    def resource_requirements(self, job_id: str) -> dict[str, int]:
        return self.inner.resource_requirements(job_id)

    def vertex_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> Sequence[VertexMetric]:
        return self.inner.vertex_metrics(job_id, vertex_id, names)


class FencedStatus:
    def __init__(self, inner: StatusStore, fence: Fence) -> None:
        self.inner, self._fence = inner, fence

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        return self.inner.load_all()

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        return self.inner.load(resource)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        self._fence.check(f"save the status of {resource.short}")
        self.inner.save(resource, status, message)

    def delete(self, resource: ResourceId, message: str) -> None:
        self._fence.check(f"delete the status of {resource.short}")
        self.inner.delete(resource, message)
