"""gitflink passes on the Kubernetes runtime, with real Flink pods on the test bed, standalone
layout, the job started by its application JobManager: deploy, a savepoint upgrade (restored
path verified), suspend, resume, delete (the garbage collector removes what the JobManager
Deployment owns). The last-state upgrade is in test_k8s_runtime_ha.py."""

from __future__ import annotations

from pathlib import Path

import kubernetes.client as k8s
import pytest
from support.flink_fixtures import wait_for
from support.k8s_world import app_files, k8s_world
from support.sync_flink_support import (
    JAR,
    FlinkWorld,
    counter_gauge,
    wait_checkpoint,
)

from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.plan import Action

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["k8s_world"]  # a fixture, imported for pytest to find
NAME = "orders"


def manifest(namespace: str, state_dir: Path, **changes: object) -> dict[str, bytes]:
    return app_files(NAME, namespace, state_dir, **changes)


def objects_of(kube_api: k8s.ApiClient, namespace: str) -> list[str]:
    selector = f"gitflink.io/resource={NAME}"
    core, apps = k8s.CoreV1Api(kube_api), k8s.AppsV1Api(kube_api)
    found = [
        *(f"Deployment/{d.metadata.name}" for d in
          apps.list_namespaced_deployment(namespace, label_selector=selector).items),
        *(f"ConfigMap/{c.metadata.name}" for c in
          core.list_namespaced_config_map(namespace, label_selector=selector).items),
        *(f"Service/{s.metadata.name}" for s in
          core.list_namespaced_service(namespace, label_selector=selector).items),
        *(f"Pod/{p.metadata.name}" for p in
          core.list_namespaced_pod(namespace, label_selector=f"app={NAME}").items),
    ]  # fmt: skip
    return sorted(found)


def written(kube_api: k8s.ApiClient, namespace: str) -> dict[str, str]:
    """What only a write changes: resourceVersions of ConfigMaps and Services, the generation
    of Deployments (their status moves on its own)."""
    selector = f"gitflink.io/resource={NAME}"
    core, apps = k8s.CoreV1Api(kube_api), k8s.AppsV1Api(kube_api)
    found = {
        f"ConfigMap/{c.metadata.name}": c.metadata.resource_version
        for c in core.list_namespaced_config_map(namespace, label_selector=selector).items
    }
    for svc in core.list_namespaced_service(namespace, label_selector=selector).items:
        found[f"Service/{svc.metadata.name}"] = svc.metadata.resource_version
    for dep in apps.list_namespaced_deployment(namespace, label_selector=selector).items:
        found[f"Deployment/{dep.metadata.name}"] = str(dep.metadata.generation)
    return found


def test_an_application_deployment_through_its_life_on_kubernetes(
    k8s_world: FlinkWorld, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    world, rid = k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    state = tmp_path / "state"

    def action(result: object) -> Action:
        return next(e.action for e in result.executions if e.resource == rid)  # type: ignore[attr-defined]

    # Deploy: the objects are applied, owned by the JobManager Deployment, and the job runs.
    world.commit(manifest(namespace, state))
    deployed = world.sync()
    first = job_id_for(rid, 1)
    assert world.running_jobs(rid) == [first]
    config_map = k8s.CoreV1Api(kube_api).read_namespaced_config_map(
        f"flink-config-{NAME}", namespace
    )
    owner = config_map.metadata.owner_references[0]
    assert (owner.kind, owner.name) == ("Deployment", NAME)
    assert deployed.revision is not None
    assert config_map.metadata.labels["gitflink.io/revision"] == deployed.revision.sha
    # Application mode: the JobManager started the job from the image's jar, no upload.
    jobmanager = k8s.AppsV1Api(kube_api).read_namespaced_deployment(NAME, namespace)
    args = jobmanager.spec.template.spec.containers[0].args
    assert args[:5] == ["standalone-job", "--jars", JAR, "--job-id", first]
    api = world.api(rid)
    wait_for(lambda: (v := counter_gauge(api, first, "maxCount")) and v >= 3, 60.0, "counting")

    # A pass with nothing changed writes nothing to the API server.
    before = written(kube_api, namespace)
    world.sync()
    assert written(kube_api, namespace) == before

    # Savepoint upgrade to parallelism 2: a second TaskManager, the job restored.
    world.commit(manifest(namespace, state, parallelism=2, rate=30))
    assert action(world.sync()) is Action.UPGRADE
    second = job_id_for(rid, 2)
    api = world.api(rid)
    assert world.running_jobs(rid) == [second]
    savepoint = world.status(rid).job_status.last_savepoint
    assert savepoint is not None and savepoint.job_id == first
    restored = api.checkpoints(second).restored
    assert restored is not None and restored.rstrip("/") == savepoint.path.rstrip("/")
    tms = k8s.AppsV1Api(kube_api).read_namespaced_deployment(f"{NAME}-taskmanager", namespace)
    assert tms.spec.replicas == 2
    start = wait_for(lambda: counter_gauge(api, second, "startCount", low=True), 60.0, "start")
    assert start > 1

    # Suspend: the job stops with a savepoint and the cluster goes away.
    world.commit(manifest(namespace, state, parallelism=2, rate=30, state="suspended"))
    world.sync()
    assert world.running_jobs(rid) == []
    assert k8s.AppsV1Api(kube_api).list_namespaced_deployment(namespace).items == []
    suspended_at = world.status(rid).job_status.upgrade_savepoint_path
    assert suspended_at is not None

    # Resume: a new cluster, the job restored from the suspend savepoint.
    world.commit(manifest(namespace, state, parallelism=2, rate=30))
    world.sync()
    (fourth,) = world.running_jobs(rid)
    restored = world.api(rid).checkpoints(fourth).restored
    assert restored is not None and restored.rstrip("/") == suspended_at.rstrip("/")

    # A checkpoint first: Flink refuses a savepoint while a restored task still initializes
    # (the pass would fail and the next one retry; the test wants this pass to delete).
    wait_checkpoint(world.api(rid), fourth)

    # Delete: the JobManager Deployment goes; the garbage collector removes everything it owns.
    world.commit({})
    world.sync(allow_mass_prune=True)
    wait_for(lambda: objects_of(kube_api, namespace) == [] or None, 60.0, "nothing left")
