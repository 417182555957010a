"""KubernetesRuntime, the FlinkRuntime port on Kubernetes: a FlinkDeployment's cluster is the set
of objects rendering gives (the JobManager Deployment first, owning the rest), applied with
server-side apply, waited for through the Clock port, and deleted by deleting its owner."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx

from gitflink.adapters.kubernetes_runtime import job_results, watching
from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.model.errors import ClusterError
from gitflink.model.flink import JobStart
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import Snapshot
from gitflink.ports import Clock, ClusterHandle

APPLIED = "gitflink.io/applied-digest"
STARTED = "gitflink.io/job-start"  # on an application's JobManager Deployment: its JobStart
MANAGED = "app.kubernetes.io/managed-by=gitflink"
# In-cluster: the REST Service by its cluster DNS name. Outside, a template with {pod_ip}.
DEFAULT_REST_URL = "http://{name}-rest.{namespace}.svc:8081"
SAVEPOINT_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
CHECKPOINT_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")


class Renderer(Protocol):
    def __call__(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        owner_uid: str | None,
        start: JobStart | None,
        revision: str | None,
    ) -> Sequence[dict[str, Any]]:
        """The cluster's objects, the JobManager Deployment first; with `owner_uid`, the others
        owned by it; with `start`, an application cluster starting its job, else a session
        cluster; `revision` labels them."""
        ...


class KubernetesRuntime:
    def __init__(
        self,
        requests: KubeRequests,
        clock: Clock,
        render: Renderer,
        resolve_jar: Callable[[str], Path],
        *,
        rest_url_template: str = DEFAULT_REST_URL,
        ready_timeout: float = 300.0,
        namespaces: Sequence[str] = (),
    ) -> None:
        """`namespaces`: the only ones clusters may run in (its RBAC may cover no others);
        empty: every namespace, listed cluster-wide."""
        self._kube, self._clock, self._render = requests, clock, render
        self._resolve_jar = resolve_jar
        self._template, self._timeout = rest_url_template, ready_timeout
        self._namespaces = tuple(namespaces)

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        """A running application's JobManager is left as it is (only `start_application`
        replaces it, with its job); everything else is brought to the spec."""
        self._check_watched(resource)
        live = self._jobmanager(resource)
        start = _start_of(live)
        return self._up(resource, spec, live, start, revision, replace_jobmanager=start is None)

    def start_application(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        start: JobStart,
        *,
        revision: str | None = None,
    ) -> bool:
        self._check_watched(resource)
        live = self._jobmanager(resource)
        handle = self._up(resource, spec, live, start, revision, replace_jobmanager=True)
        watching.wait_job(self._clock, handle.rest_url, start.job_id, self._timeout)
        # The new start runs: earlier starts' JobResultStores are no longer read (FLINK-27569).
        path = job_results.storage_path(self._render(resource, spec, None, start, revision))
        if path is not None:
            job_results.remove_earlier(resource, path)
        return True

    def _jobmanager(self, resource: ResourceId) -> dict[str, Any] | None:
        """The live JobManager Deployment; one being deleted (by hand, in the foreground) is
        waited out, with its pods: applying to it would change nothing that lasts."""
        live = self._kube.get("Deployment", resource.namespace, resource.name)
        if live is None or not live["metadata"].get("deletionTimestamp"):
            return live
        watching.wait_gone(self._kube, self._clock, resource, self._timeout)
        return None

    def _up(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        live: dict[str, Any] | None,
        start: JobStart | None,
        revision: str | None,
        *,
        replace_jobmanager: bool,
    ) -> ClusterHandle:
        jobmanager = _with_start(self._render(resource, spec, None, start, revision)[0], start)
        if live is not None and not replace_jobmanager:
            owner = live
        else:
            if live is not None and _digest(jobmanager) != _applied(live):
                self._refuse_replacing_a_running_job(resource)
            owner = self._apply(jobmanager, live)
        objects = self._render(resource, spec, owner["metadata"]["uid"], start, revision)
        for obj in objects[1:]:
            meta = obj["metadata"]
            # Secrets are applied without reading them first: the agent is never granted `get`
            # on Secrets (docs/helm.md#rbac); applying the same Secret again changes nothing.
            live_obj = (
                None
                if obj["kind"] == "Secret"
                else self._kube.get(obj["kind"], meta["namespace"], meta["name"])
            )
            self._apply(obj, live_obj)
        watching.wait_ready(self._kube, self._clock, resource, objects, self._timeout)
        handle = self._handle(resource, spec)
        taskmanagers = watching.taskmanager_count(objects)
        watching.wait_rest(self._clock, handle.rest_url, taskmanagers, self._timeout)
        return handle

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None:
        if resource.kind is not Kind.FLINK_DEPLOYMENT or not self._watches(resource):
            return None
        live = self._kube.get("Deployment", resource.namespace, resource.name)
        if live is None or not (live.get("status") or {}).get("readyReplicas"):
            return None
        try:
            # State directories are left to the cluster's configuration (None: Flink's).
            handle = ClusterHandle(resource, self._rest_url(resource))
        except ClusterError:
            return None
        # Standalone TaskManagers are a Deployment of their own (adapters never import core's
        # naming: the suffix is the rendered one); fewer ready than wanted is a degraded cluster.
        workers = self._kube.get("Deployment", resource.namespace, f"{resource.name}-taskmanager")
        if workers is not None:
            wanted = int((workers.get("spec") or {}).get("replicas") or 0)
            ready = int((workers.get("status") or {}).get("readyReplicas") or 0)
            if ready < wanted:
                handle = dataclasses.replace(
                    handle, degraded=f"{ready} of {wanted} TaskManagers ready"
                )
        return handle

    def latest_checkpoint(self, resource: ResourceId, job_id: str) -> Snapshot | None:
        """Checkpoint storage on Kubernetes is remote (s3://, gs://...), which gitflink does not
        list: a lost cluster comes back from the last savepoint recorded (docs/kubernetes.md)."""
        return None

    def delete_cluster(self, resource: ResourceId, *, keep_ha: bool = True) -> None:
        """Delete the JobManager Deployment; the garbage collector removes what it owns. Returns
        once the cluster's pods are gone, so a new start never overlaps them. Flink's HA
        ConfigMaps (its own, not owned) are kept for a last-state start, as the operator keeps
        them; `keep_ha=False` (deleted for good) removes them once the pods are gone."""
        self._check_watched(resource)
        self._kube.delete("Deployment", resource.namespace, resource.name)
        watching.wait_gone(self._kube, self._clock, resource, self._timeout)
        if keep_ha:
            return
        for config_map in self._kube.list_objects("ConfigMap", resource.namespace, _ha(resource)):
            self._kube.delete("ConfigMap", resource.namespace, config_map["metadata"]["name"])

    def list_clusters(self) -> Sequence[ClusterHandle]:
        handles = []
        if self._namespaces:
            found = [
                d
                for ns in self._namespaces
                for d in self._kube.list_objects("Deployment", ns, MANAGED)
            ]
        else:
            found = self._kube.list_all("Deployment", MANAGED)
        for live in found:
            meta = live["metadata"]
            if meta["labels"].get("gitflink.io/resource") != meta["name"]:
                continue  # a TaskManager Deployment
            resource = ResourceId(Kind.FLINK_DEPLOYMENT, meta["namespace"], meta["name"])
            handle = self.find_cluster(resource)
            if handle is not None:
                handles.append(handle)
        return handles

    def _watches(self, resource: ResourceId) -> bool:
        return not self._namespaces or resource.namespace in self._namespaces

    def _check_watched(self, resource: ResourceId) -> None:
        if not self._watches(resource):
            raise ClusterError(
                f"{resource.short}: namespace {resource.namespace} is not one gitflink runs "
                f"clusters in (GITFLINK_NAMESPACES: {', '.join(self._namespaces)})"
            )

    def resolve_jar(self, jar_uri: str) -> Path:
        return self._resolve_jar(jar_uri)

    def _apply(self, obj: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
        """Apply `obj` unless the live object was applied from the same rendering: a quiet pass
        writes nothing."""
        digest = _digest(obj)
        if live is not None and _applied(live) == digest:
            return live
        annotated = {
            **obj,
            "metadata": {
                **obj["metadata"],
                "annotations": {**obj["metadata"].get("annotations", {}), APPLIED: digest},
            },
        }
        return self._kube.apply(annotated)

    def _refuse_replacing_a_running_job(self, resource: ResourceId) -> None:
        """A new JobManager would kill a running job without a savepoint: the plan stops it
        first, so a running job here means a plan made on stale observations."""
        try:
            url = self._rest_url(resource)
            jobs = httpx.get(f"{url}/jobs/overview", timeout=5).json().get("jobs", [])
        except (ClusterError, httpx.HTTPError, ValueError):
            return  # no JobManager answers: nothing runs that a new one could kill
        running = [j["jid"] for j in jobs if j.get("state") not in watching.TERMINAL]
        if running:
            raise ClusterError(
                f"{resource.short}: the cluster's configuration changed while job {running[0]} "
                "runs; stop the job first"
            )

    def _handle(self, resource: ResourceId, spec: FlinkDeploymentSpec) -> ClusterHandle:
        config = spec.flink_configuration
        return ClusterHandle(
            resource,
            self._rest_url(resource),
            flink_version=spec.flink_version.value if spec.flink_version else None,
            savepoint_dir=next((str(config[k]) for k in SAVEPOINT_KEYS if k in config), None),
            checkpoint_dir=next((str(config[k]) for k in CHECKPOINT_KEYS if k in config), None),
        )

    def _rest_url(self, resource: ResourceId) -> str:
        fields = {"name": resource.name, "namespace": resource.namespace, "pod_ip": ""}
        if "{pod_ip}" in self._template:
            fields["pod_ip"] = watching.jobmanager_ip(self._kube, resource)
        return self._template.format(**fields).rstrip("/")


def _ha(resource: ResourceId) -> str:
    """Flink's Kubernetes HA ConfigMaps of a cluster (`kubernetes.cluster-id` is its name)."""
    return f"app={resource.name},configmap-type=high-availability"


def _with_start(jobmanager: dict[str, Any], start: JobStart | None) -> dict[str, Any]:
    """The JobManager Deployment noting the job it starts, so a later ensure_cluster keeps it."""
    if start is None:
        return jobmanager
    note = json.dumps(dataclasses.asdict(start), sort_keys=True)
    meta = jobmanager["metadata"]
    annotations = {**meta.get("annotations", {}), STARTED: note}
    return {**jobmanager, "metadata": {**meta, "annotations": annotations}}


def _start_of(live: dict[str, Any] | None) -> JobStart | None:
    if live is None:
        return None
    note = (live["metadata"].get("annotations") or {}).get(STARTED)
    return JobStart(**json.loads(note)) if note else None


def _digest(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _applied(live: dict[str, Any]) -> str | None:
    annotations: dict[str, str] = live["metadata"].get("annotations") or {}
    return annotations.get(APPLIED)
