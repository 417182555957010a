"""Kubernetes HA on the Kubernetes runtime with real Flink pods: the JobManager keeps its leader
and job metadata in ConfigMaps (the rendered Role allows it), a last-state upgrade restores the
newest checkpoint into a new application start with a JobResultStore path of its own
(FLINK-27569) and removes the earlier one, a killed JobManager pod is replaced and takes its job
back from the HA metadata, and a delete from Git removes the HA ConfigMaps Flink made."""

from __future__ import annotations

from pathlib import Path

import kubernetes.client as k8s
import pytest
from support.flink_fixtures import wait_for
from support.k8s_world import k8s_world, replaced
from support.sync_flink_support import FlinkWorld, app_manifest, wait_checkpoint, yaml_bytes

from gitflink.model.errors import GitflinkError
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


def checkpoint_number(path: str) -> int:
    return int(path.rstrip("/").rsplit("/chk-", 1)[1])


def restored_from(world: FlinkWorld, rid: ResourceId, job_id: str) -> str | None:
    """The checkpoint the running job restored, once the new JobManager runs it."""
    try:
        if world.running_jobs(rid) != [job_id]:
            return None
        restored = world.api(rid).checkpoints(job_id).restored
    except GitflinkError:
        return None
    return restored if restored and "/chk-" in restored else None


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

    # The JobManager pod killed: its Deployment starts a new one, which takes the job back
    # from the HA metadata at a checkpoint at least as new as the last one before the kill;
    # the next pass finds the job running as Git says and stops nothing.
    before = checkpoint_number(wait_checkpoint(world.api(rid), second))
    jobmanager = f"app={NAME},component=jobmanager"
    (killed,) = core.list_namespaced_pod(namespace, label_selector=jobmanager).items
    core.delete_namespaced_pod(killed.metadata.name, namespace, grace_period_seconds=0)
    wait_for(lambda: replaced(core, namespace, jobmanager, killed.metadata.name), 120.0, "new JM")
    restored = wait_for(lambda: restored_from(world, rid, second), 120.0, "the job restored")
    assert checkpoint_number(restored) >= before
    again = world.sync()
    assert [e.action for e in again.executions if e.resource == rid and e.ran] == []
    assert world.running_jobs(rid) == [second]

    wait_checkpoint(world.api(rid), second)  # no savepoint while a restored task initializes
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert world.ports.runtime.find_cluster(rid) is None
    # Deleted for good: Flink's HA ConfigMaps go too (an upgrade above kept them: it restored).
    assert core.list_namespaced_config_map(namespace, label_selector=ha_maps).items == []
