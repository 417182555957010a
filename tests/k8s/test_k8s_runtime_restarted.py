"""A JobManager pod killed without HA, on the Kubernetes runtime with real Flink pods: its
Deployment starts a new one, which runs the job again (same job id) from the restore path of its
start. The next pass notices the newer start time and redeploys the job from the newest state
the previous run left, the periodic savepoint gitflink recorded (docs/recovery.md)."""

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
NAME = "noha"


def manifest(namespace: str, state: Path) -> dict[str, bytes]:
    doc = app_manifest("v1_20", NAME, namespace=namespace, parallelism=1, rate=20)
    doc["spec"]["image"] = "flink:1.20"
    doc["spec"]["flinkConfiguration"] = {
        "taskmanager.numberOfTaskSlots": 1,
        "state.savepoints.dir": f"file://{state}/savepoints",
        "state.checkpoints.dir": f"file://{state}/checkpoints",
        # Each pass after a second takes a savepoint: newer state gitflink knows of.
        "kubernetes.operator.periodic.savepoint.interval": "1s",
    }
    return {"noha.yaml": yaml_bytes(doc)}


def started_again(world: FlinkWorld, rid: ResourceId, job_id: str, before: object) -> bool | None:
    """The new JobManager runs the job again: same id, a newer start time, every task up."""
    if world.ports.runtime.find_cluster(rid) is None:
        return None  # no JobManager ready yet
    try:
        details = world.api(rid).job_details(job_id)
    except GitflinkError:
        return None
    newer = details.start_time is not None and before is not None and details.start_time > before
    return True if newer and details.all_vertices_running else None


def test_a_jobmanager_killed_without_ha_is_redeployed_from_the_newest_savepoint(
    k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, rid = k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    core = k8s.CoreV1Api(kube_api)
    world.commit(manifest(namespace, tmp_path))
    world.sync()
    first = job_id_for(rid, 1)
    assert world.running_jobs(rid) == [first]
    wait_checkpoint(world.api(rid), first)
    # A pass once the periodic savepoint is due (a second after the start) takes it.
    wait_for(lambda: world.sync() and world.status(rid).job_status.last_savepoint, 60.0, "one")
    recorded = world.status(rid).job_status
    assert recorded.last_savepoint is not None and recorded.last_savepoint.job_id == first
    savepoint, started = recorded.last_savepoint.path, recorded.flink_start_time
    assert started is not None

    for component in ("jobmanager", "taskmanager"):
        # The test bed resolves the JobManager's Service once, when a pod starts (no cluster
        # DNS): its TaskManager follows the new JobManager only when replaced too.
        selector = f"app={NAME},component={component}"
        (killed,) = core.list_namespaced_pod(namespace, label_selector=selector).items
        core.delete_namespaced_pod(killed.metadata.name, namespace, grace_period_seconds=0)
        old = killed.metadata.name
        wait_for(lambda s=selector, o=old: replaced(core, namespace, s, o), 120.0, component)
    wait_for(lambda: started_again(world, rid, first, started), 120.0, "the job started again")
    # Without HA the new JobManager ran the job from its start's restore path: empty state.
    assert world.api(rid).checkpoints(first).restored is None

    result = world.sync()
    [recovered] = [e for e in result.executions if e.resource == rid and e.ran]
    assert recovered.ok, recovered.error
    second = job_id_for(rid, 2)
    assert world.running_jobs(rid) == [second]
    assert world.api(rid).checkpoints(second).restored == savepoint
    status = world.status(rid)
    assert status.job_status.restored_from is not None
    assert status.job_status.restored_from.path == savepoint
    assert status.recovery is not None
    assert "JobManager restarted without HA" in (status.recovery.reason or "")
