"""Waiting on a cluster through the Clock port: its Deployments ready (or failing for a reason
a person must fix), Flink REST answering with every TaskManager, its pods gone after delete."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.model.errors import ClusterError
from gitflink.model.ids import ResourceId
from gitflink.ports import Clock

T = TypeVar("T")
TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
# Waiting reasons that do not heal by themselves. CreateContainerConfigError is left out: it is
# normal for the moment between the JobManager Deployment and its ConfigMap being applied.
BROKEN = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName"}
POLL = 0.5


def wait_for(clock: Clock, what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = clock.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if clock.monotonic() >= deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
        clock.sleep(POLL)


def taskmanager_count(objects: Sequence[dict[str, Any]]) -> int:
    """TaskManagers the standalone layout runs (native mode starts them on demand: 0)."""
    return sum(
        int(o["spec"]["replicas"])
        for o in objects[1:]
        if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-taskmanager")
    )


def wait_ready(
    kube: KubeRequests,
    clock: Clock,
    resource: ResourceId,
    objects: Sequence[dict[str, Any]],
    timeout: float,
) -> None:
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"]

    def ready() -> bool | None:
        for name in deployments:
            live = kube.get("Deployment", resource.namespace, name)
            if live is None:
                return None
            status, spec = live.get("status") or {}, live["spec"]
            rolled = status.get("observedGeneration", 0) >= live["metadata"]["generation"]
            settled = status.get("updatedReplicas", 0) == status.get("replicas", 0)
            if not (rolled and settled and status.get("readyReplicas", 0) == spec["replicas"]):
                failing(kube, resource)
                return None
        return True

    wait_for(clock, f"the Deployments of {resource.short} to be ready", ready, timeout)


def failing(kube: KubeRequests, resource: ResourceId) -> None:
    """Raise when a pod of the cluster waits for something only a person can fix."""
    for pod in kube.list_objects("Pod", resource.namespace, f"app={resource.name}"):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in BROKEN:
                raise ClusterError(
                    f"{resource.short}: pod {pod['metadata']['name']} container "
                    f"{status['name']}: {waiting['reason']}: {waiting.get('message', '')}".strip()
                )


def wait_rest(clock: Clock, rest_url: str, taskmanagers: int, timeout: float) -> None:
    def answers() -> bool | None:
        try:
            overview = httpx.get(f"{rest_url}/overview", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None
        # A TaskManager registers first and reports its slots a moment later.
        counted = overview.get("taskmanagers", 0) >= taskmanagers
        return True if counted and overview.get("slots-total", 0) >= taskmanagers else None

    wait_for(clock, f"Flink REST at {rest_url} with {taskmanagers} TaskManagers", answers, timeout)


def wait_job(clock: Clock, rest_url: str, job_id: str, timeout: float) -> None:
    """An application's JobManager registers its job a moment after REST answers."""

    def known() -> bool | None:
        try:
            return True if httpx.get(f"{rest_url}/jobs/{job_id}", timeout=5).is_success else None
        except httpx.HTTPError:
            return None

    wait_for(clock, f"job {job_id} at {rest_url}", known, timeout)


def wait_gone(kube: KubeRequests, clock: Clock, resource: ResourceId, timeout: float) -> None:
    def gone() -> bool | None:
        if kube.get("Deployment", resource.namespace, resource.name) is not None:
            return None
        pods = kube.list_objects("Pod", resource.namespace, f"app={resource.name}")
        return True if not pods else None

    wait_for(clock, f"the pods of {resource.short} to stop", gone, timeout)


def jobmanager_ip(kube: KubeRequests, resource: ResourceId) -> str:
    selector = f"app={resource.name},component=jobmanager"
    for pod in kube.list_objects("Pod", resource.namespace, selector):
        status = pod.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        if ready and status.get("podIP") and not pod["metadata"].get("deletionTimestamp"):
            return str(status["podIP"])
    raise ClusterError(f"{resource.short}: no ready JobManager pod")
