"""A session cluster on the Kubernetes runtime with two session jobs submitted over REST; a
change of the cluster's configuration replaces its JobManager, carrying the stateful job
through a savepoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest
from support.k8s_world import k8s_world
from support.sync_flink_support import JAR, FlinkWorld, app_manifest, wait_checkpoint, yaml_bytes

from gitflink.model.ids import Kind, ResourceId, job_id_for

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["k8s_world"]  # a fixture, imported for pytest to find


def session_job(namespace: str, name: str, mode: str) -> dict[str, Any]:
    job = {"jarURI": JAR, "entryClass": "gitflink.testjob.CounterJob", "parallelism": 1}
    job |= {"args": ["--rate", "20", "--counter-uid", name, "--checkpoint-interval", "1000"]}
    job |= {"upgradeMode": mode}
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"deploymentName": "session", "job": job},
    }


def files(namespace: str, state: Path, slots: int = 2) -> dict[str, bytes]:
    session = app_manifest("v1_20", "session", namespace=namespace)
    del session["spec"]["job"]
    session["spec"]["image"] = "flink:1.20"
    conf = session["spec"]["flinkConfiguration"]
    conf["taskmanager.numberOfTaskSlots"] = slots
    conf["state.savepoints.dir"] = f"file://{state}/savepoints"
    conf["state.checkpoints.dir"] = f"file://{state}/checkpoints"
    jobs = (
        session_job(namespace, "views", "savepoint"),
        session_job(namespace, "clicks", "stateless"),
    )
    return {"session.yaml": yaml_bytes(session), "jobs.yaml": yaml_bytes(*jobs)}


def running(world: FlinkWorld, cluster: ResourceId) -> list[str] | None:
    try:
        return sorted(world.running_jobs(cluster)) or None
    except Exception:  # the JobManager is coming back: not yet
        return None


def test_a_session_cluster_carries_its_jobs_through_a_new_jobmanager(
    k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, state = k8s_world, tmp_path / "state"
    cluster = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "session")
    views = ResourceId(Kind.FLINK_SESSION_JOB, namespace, "views")
    clicks = ResourceId(Kind.FLINK_SESSION_JOB, namespace, "clicks")
    world.commit(files(namespace, state))
    world.sync()
    assert running(world, cluster) == sorted([job_id_for(views, 1), job_id_for(clicks, 1)])
    first_pod = jobmanager_pod(kube_api, namespace)

    # More slots: a new configuration, so a new JobManager; views stops with a savepoint and
    # continues from it, clicks (stateless) starts again empty.
    world.commit(files(namespace, state, slots=3))
    world.sync()
    assert jobmanager_pod(kube_api, namespace) != first_pod
    second_views, second_clicks = job_id_for(views, 2), job_id_for(clicks, 2)
    assert running(world, cluster) == sorted([second_views, second_clicks])
    api = world.api(cluster)
    carried = world.status(views).job_status.last_savepoint
    assert carried is not None and carried.job_id == job_id_for(views, 1)
    restored = api.checkpoints(second_views).restored
    assert restored is not None and restored.rstrip("/") == carried.path.rstrip("/")
    assert api.checkpoints(second_clicks).restored is None
    assert api.overview().slots_total == 3

    wait_checkpoint(api, second_views)  # no savepoint while a restored task initializes
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert world.ports.runtime.find_cluster(cluster) is None


def jobmanager_pod(kube_api: k8s.ApiClient, namespace: str) -> str:
    selector = "app=session,component=jobmanager"
    pods = k8s.CoreV1Api(kube_api).list_namespaced_pod(namespace, label_selector=selector).items
    return str(pods[0].metadata.uid)
