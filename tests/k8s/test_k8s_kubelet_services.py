"""Flink's standalone Kubernetes layout on the test bed: a JobManager Deployment behind a Service
and a TaskManager Deployment whose pods find the JobManager by the Service's name."""

from __future__ import annotations

import httpx
import kubernetes.client as k8s
import pytest
from k8s_testbed.kubelet import ProcessKubelet
from support.flink_fixtures import wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.flink]

PROPERTIES = "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\n"


def deployment(component: str, replicas: int) -> k8s.V1Deployment:
    labels = {"app": "flink", "component": component}
    container = k8s.V1Container(
        name=component,
        image="flink:1.20.1-scala_2.12-java17",
        args=[component],
        env=[k8s.V1EnvVar(name="FLINK_PROPERTIES", value=PROPERTIES)],
        ports=[k8s.V1ContainerPort(name="rpc", container_port=6123)],
    )
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=f"flink-{component}"),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(containers=[container]),
            ),
        ),
    )


def test_taskmanagers_find_the_jobmanager_through_its_service(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet
) -> None:
    core, apps = k8s.CoreV1Api(kube_api), k8s.AppsV1Api(kube_api)
    core.create_namespaced_service(
        namespace,
        k8s.V1Service(
            metadata=k8s.V1ObjectMeta(name="flink-jobmanager"),
            spec=k8s.V1ServiceSpec(
                selector={"app": "flink", "component": "jobmanager"},
                ports=[
                    k8s.V1ServicePort(name="rpc", port=6123),
                    k8s.V1ServicePort(name="rest", port=8081),
                ],
            ),
        ),
    )
    apps.create_namespaced_deployment(namespace, deployment("jobmanager", 1))
    apps.create_namespaced_deployment(namespace, deployment("taskmanager", 2))

    def jobmanager_ip() -> str | None:
        pods = core.list_namespaced_pod(namespace, label_selector="component=jobmanager").items
        return next((p.status.pod_ip for p in pods if p.status.pod_ip), None)

    ip = wait_for(jobmanager_ip, timeout=60, what="the JobManager pod's IP")

    def registered() -> dict[str, int] | None:
        try:
            overview = httpx.get(f"http://{ip}:8081/overview", timeout=2).json()
        except httpx.HTTPError:
            return None
        # A TaskManager registers first and reports its slots a moment later: wait for both.
        counts = (overview.get("taskmanagers"), overview.get("slots-total"))
        return overview if counts == (2, 4) else None

    wait_for(registered, timeout=120, what="both TaskManagers to register with two slots each")
    taskmanagers = httpx.get(f"http://{ip}:8081/taskmanagers", timeout=2).json()["taskmanagers"]
    tm_ips = {
        p.status.pod_ip
        for p in core.list_namespaced_pod(namespace, label_selector="component=taskmanager").items
    }
    assert {tm["id"].split(":")[0] for tm in taskmanagers} == tm_ips
