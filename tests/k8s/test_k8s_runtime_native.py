"""The native layout on the Kubernetes runtime with real Flink pods: gitflink applies the
JobManager (kubernetes-application), its ConfigMap, Services and RBAC; the JobManager creates
its TaskManager pods; a savepoint upgrade restores; delete leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import kubernetes.client as k8s
import pytest
from support.flink_fixtures import wait_for
from support.k8s_world import k8s_world
from support.sync_flink_support import FlinkWorld, app_manifest, wait_checkpoint, yaml_bytes

from gitflink.model.ids import Kind, ResourceId, job_id_for

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["k8s_world"]  # a fixture, imported for pytest to find
NAME = "native"


def manifest(namespace: str, state: Path, rate: int) -> dict[str, bytes]:
    doc = app_manifest("v1_20", NAME, namespace=namespace, parallelism=1, rate=rate)
    doc["spec"]["mode"] = "native"
    doc["spec"]["image"] = "flink:1.20"
    doc["spec"]["flinkConfiguration"] = {
        "taskmanager.numberOfTaskSlots": 1,
        "state.savepoints.dir": f"file://{state}/savepoints",
        "state.checkpoints.dir": f"file://{state}/checkpoints",
    }
    return {"native.yaml": yaml_bytes(doc)}


def pods(kube_api: k8s.ApiClient, namespace: str, component: str) -> list[k8s.V1Pod]:
    selector = f"app={NAME},component={component}"
    return k8s.CoreV1Api(kube_api).list_namespaced_pod(namespace, label_selector=selector).items


def test_a_native_application_creates_its_taskmanagers_and_upgrades_through_a_savepoint(
    k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, rid = k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    world.commit(manifest(namespace, tmp_path, rate=20))
    world.sync()
    first = job_id_for(rid, 1)
    assert world.running_jobs(rid) == [first]
    jobmanager = k8s.AppsV1Api(kube_api).read_namespaced_deployment(NAME, namespace)
    assert jobmanager.spec.template.spec.containers[0].args[-1] == (
        "kubernetes-jobmanager.sh kubernetes-application"
    )
    (taskmanager,) = pods(kube_api, namespace, "taskmanager")
    assert taskmanager.metadata.owner_references[0].name == NAME  # created by the JobManager

    world.commit(manifest(namespace, tmp_path, rate=30))
    world.sync()
    second = job_id_for(rid, 2)
    assert world.running_jobs(rid) == [second]
    savepoint = world.status(rid).job_status.last_savepoint
    assert savepoint is not None and savepoint.job_id == first
    restored = world.api(rid).checkpoints(second).restored
    assert restored is not None and restored.rstrip("/") == savepoint.path.rstrip("/")

    wait_checkpoint(world.api(rid), second)  # no savepoint while a restored task initializes
    world.commit({})
    world.sync(allow_mass_prune=True)
    core = k8s.CoreV1Api(kube_api)
    wait_for(
        lambda: (
            (
                not core.list_namespaced_pod(namespace).items
                and not core.list_namespaced_service(namespace).items
            )
            or None
        ),
        60.0,
        "nothing left",
    )
