"""Kubernetes HA on the Kubernetes runtime with real Flink pods: the JobManager keeps its leader
and job metadata in ConfigMaps (the rendered Role allows it), a last-state upgrade restores the
newest checkpoint into a new application start with a JobResultStore path of its own
(FLINK-27569), and a delete from Git removes the HA ConfigMaps Flink made."""

from __future__ import annotations

from pathlib import Path

import kubernetes.client as k8s
import pytest
from support.k8s_world import k8s_world
from support.sync_flink_support import FlinkWorld, app_manifest, wait_checkpoint, yaml_bytes

from gitflink.model.ids import Kind, ResourceId, job_id_for

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["k8s_world"]  # a fixture, imported for pytest to find
NAME = "ha"


def manifest(namespace: str, state: Path, rate: int) -> dict[str, bytes]:
    doc = app_manifest(
        "v1_20", NAME, namespace=namespace, parallelism=1, rate=rate, mode="last-state"
    )
    doc["spec"]["image"] = "flink:1.20"
    doc["spec"]["flinkConfiguration"] = {
        "taskmanager.numberOfTaskSlots": 1,
        "state.savepoints.dir": f"file://{state}/savepoints",
        "state.checkpoints.dir": f"file://{state}/checkpoints",
        "high-availability.type": "kubernetes",
        "high-availability.storageDir": f"file://{state}/ha",
    }
    return {"ha.yaml": yaml_bytes(doc)}


def test_an_ha_application_upgrades_last_state_into_a_fresh_job_result_store(
    k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, rid = k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    core = k8s.CoreV1Api(kube_api)
    world.commit(manifest(namespace, tmp_path, rate=20))
    world.sync()
    first = job_id_for(rid, 1)
    assert world.running_jobs(rid) == [first]
    wait_checkpoint(world.api(rid), first)
    ha_maps = "configmap-type=high-availability"
    assert core.list_namespaced_config_map(namespace, label_selector=ha_maps).items
    stores = tmp_path / "ha" / "job-result-store" / NAME
    assert [p.name for p in stores.iterdir()] == [first]  # Flink made the first start's

    world.commit(manifest(namespace, tmp_path, rate=30))
    world.sync()
    second = job_id_for(rid, 2)
    assert world.running_jobs(rid) == [second]
    restored = world.api(rid).checkpoints(second).restored
    assert restored is not None and "/chk-" in restored
    conf = core.read_namespaced_config_map(f"flink-config-{NAME}", namespace).data["config.yaml"]
    assert f"job-result-store/{NAME}/{second}" in conf
    # The new start runs: the first start's JobResultStore is gone, the newest kept.
    assert [p.name for p in stores.iterdir()] == [second]

    wait_checkpoint(world.api(rid), second)  # no savepoint while a restored task initializes
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert world.ports.runtime.find_cluster(rid) is None
    # Deleted for good: Flink's HA ConfigMaps go too (an upgrade above kept them: it restored).
    assert core.list_namespaced_config_map(namespace, label_selector=ha_maps).items == []
