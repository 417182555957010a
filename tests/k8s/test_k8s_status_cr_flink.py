"""CR status mode with real Flink pods on the test bed: the custom resources follow a deployment
through its life (kubectl's columns read RUNNING / STABLE), a FlinkStateSnapshot gets the
operator's snapshot status, and a JobManager Deployment deleted by hand is recovered by the next
pass from the savepoint last recorded in the custom resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest
from support.custom_resources import TABLE, path_of, raw
from support.flink_fixtures import wait_for
from support.k8s_world import cr_k8s_world, k8s_app_manifest
from support.sync_flink_support import FlinkWorld, counter_gauge, yaml_bytes

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["cr_k8s_world"]  # a fixture, imported for pytest to find
NAME = "orders"


def snapshot(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "before-maintenance", "namespace": namespace},
        "spec": {"jobReference": {"kind": "FlinkDeployment", "name": NAME}, "savepoint": {}},
    }


def columns(api: k8s.ApiClient, namespace: str, plural: str) -> list[list[Any]]:
    table = raw(api, path_of(namespace, plural), accept=TABLE)
    return [row["cells"] for row in table["rows"]]


def test_custom_resources_follow_a_deployment_and_a_deleted_jobmanager_is_recovered(
    cr_k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, rid = cr_k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    state = tmp_path / "state"
    app = k8s_app_manifest(NAME, namespace, state)
    world.commit(app)
    deployed = world.sync()
    (first,) = world.running_jobs(rid)
    assert [row[:3] for row in columns(kube_api, namespace, "flinkdeployments")] == [
        [NAME, "RUNNING", "STABLE"]
    ]
    obj = raw(kube_api, path_of(namespace, name=NAME))
    assert deployed.revision is not None
    assert obj["metadata"]["annotations"]["gitflink.io/revision"] == deployed.revision.sha
    assert obj["spec"]["job"]["parallelism"] == 1
    wait_for(
        lambda: (v := counter_gauge(world.api(rid), first, "maxCount")) and v >= 3, 60.0, "counting"
    )

    # A FlinkStateSnapshot in Git: one savepoint, its custom resource COMPLETED with the path.
    files = {**app, f"{namespace}/snapshot.yaml": yaml_bytes(snapshot(namespace))}
    world.commit(files)
    world.sync()
    taken = world.status(rid).job_status.last_savepoint
    assert taken is not None and taken.job_id == first
    (row,) = columns(kube_api, namespace, "flinkstatesnapshots")
    assert (row[0], row[1], row[3]) == ("before-maintenance", taken.path, "COMPLETED")

    # The JobManager Deployment deleted by hand: the garbage collector takes the rest, and the
    # next pass brings the job back from the savepoint the custom resource recorded.
    k8s.AppsV1Api(kube_api).delete_namespaced_deployment(
        NAME, namespace, propagation_policy="Foreground"
    )
    wait_for(lambda: world.ports.runtime.find_cluster(rid) is None or None, 60.0, "JobManager gone")
    recovered = world.sync()
    assert [e.action for e in recovered.executions if e.resource == rid] == [Action.RECOVER]
    (again,) = world.running_jobs(rid)
    restored = world.api(rid).checkpoints(again).restored
    assert restored is not None and restored.rstrip("/") == taken.path.rstrip("/")
    # A recovered job counts as stable once it has run for the stability window.
    assert [row[:3] for row in columns(kube_api, namespace, "flinkdeployments")] == [
        [NAME, "RUNNING", "DEPLOYED"]
    ]
    status = raw(kube_api, path_of(namespace, name=NAME))["status"]
    assert status["jobStatus"]["jobId"] == again

    # Deleted from Git: the cluster goes; the custom resource keeps the tombstone (history,
    # last savepoint) with lifecycle DELETED.
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert world.ports.runtime.find_cluster(rid) is None
    lifecycle = {row[0]: row[2] for row in columns(kube_api, namespace, "flinkdeployments")}
    assert lifecycle == {NAME: "DELETED"}
