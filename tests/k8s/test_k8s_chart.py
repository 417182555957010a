"""The Helm chart on the test bed, RBAC enforced: `helm install` through Helm's Go SDK, a token
minted for the chart's ServiceAccount (TokenRequest), and the agent run as the chart's pod runs
it (its arguments, config file, environment and probes) with that token: deploy, savepoint
upgrade and delete of a FlinkDeployment with real Flink pods, its status on the status branch
or (`status.mode: cr`) as its custom resource. The audit log then shows no request of that
account refused, and every verb the chart's Role grants used (the documented exceptions
aside)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import httpx
import kubernetes.client as k8s
import pytest
import yaml
from k8s_testbed.controlplane import SA_ISSUER, ControlPlane, User
from support.custom_resources import path_of, raw
from support.flink_fixtures import wait_for
from support.gitrepos import Remote
from support.helm_chart import CHART, REPO, env_of, find, grants, render, with_repo
from support.k8s_world import k8s_app_manifest, k8s_world
from support.sync_flink_support import FlinkWorld, wait_checkpoint

from gitflink import wiring
from gitflink.adapters.local_runtime.cluster import free_port
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.errors import ClusterError, FlinkApiError
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.settings import Settings

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["k8s_world"]  # a fixture, imported for pytest to find
NAME = "orders"
RELEASE = "gitflink"
# Granted, not used on the test bed: owner references with blockOwnerDeletion need it only where
# the OwnerReferencesPermissionEnforcement admission plugin runs (docs/helm.md#rbac).
UNUSED_BY_DESIGN = {("apps", "deployments/finalizers", "update")}


def chart_values(namespace: str, status: str = "git") -> dict[str, Any]:
    """Watching the test's namespace; the roles for HA, native mode and Ingresses off (this
    run uses none of them); a pass every second. Status on the status branch, or as custom
    resources (`status`: cr), whose CRDs the session installed once (`flink_crds`: the test bed
    is shared, Helm would refuse CRDs it does not own)."""
    return with_repo({
        "watchNamespaces": [namespace],
        "rbac": {"flinkRoles": False, "flinkIngresses": False},
        "interval": 1,
        "config": {"allowMassPrune": True},  # the one resource goes: all of them
        "status": {"mode": status},
        "crds": {"install": False},
    })  # fmt: skip


@pytest.fixture(params=["git", "cr"])
def status_mode(request: pytest.FixtureRequest) -> str:
    if request.param == "cr":
        request.getfixturevalue("flink_crds")
    return str(request.param)


@pytest.fixture
def release(
    control_plane: ControlPlane, kube_api: k8s.ApiClient, namespace: str, status_mode: str
) -> Iterator[str]:
    """The chart installed into a namespace of its own (no kubelet runs its agent pod there:
    the test runs the agent itself, as that pod would)."""
    release_ns = f"gf-{uuid.uuid4().hex[:8]}"
    with helm.Config(
        kube_apiserver=control_plane.url,
        kube_token=control_plane.admin.token,
        kube_ca_file=control_plane.ca_cert,
        namespace=release_ns,
    ) as config:
        installed = config.install(
            str(CHART),
            RELEASE,
            chart_values(namespace, status_mode),
            namespace=release_ns,
            create_namespace=True,
        )
        assert installed["status"] == "deployed"
        try:
            yield release_ns
        finally:
            config.uninstall(RELEASE)
            k8s.CoreV1Api(kube_api).delete_namespace(release_ns)


def service_account_token(kube_api: k8s.ApiClient, namespace: str) -> str:
    request = k8s.AuthenticationV1TokenRequest(
        spec=k8s.V1TokenRequestSpec(audiences=[SA_ISSUER], expiration_seconds=3600)
    )
    answer = k8s.CoreV1Api(kube_api).create_namespaced_service_account_token(
        RELEASE, namespace, request
    )
    return str(answer.status.token)


def audited(plane: ControlPlane, user: str) -> list[dict[str, Any]]:
    events = (json.loads(line) for line in plane.audit_log.read_text().splitlines())
    return [e for e in events if e["user"]["username"] == user and e["stage"] == "ResponseComplete"]


def used(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(group, resource, verb) of each request; a server-side apply that created its object
    (201) was authorized as create too."""
    found = set()
    for event in events:
        ref = event["objectRef"]
        resource = "/".join(filter(None, (ref["resource"], ref.get("subresource"))))
        found.add((ref.get("apiGroup", ""), resource, event["verb"]))
        if event["verb"] == "patch" and event["responseStatus"]["code"] == 201:
            found.add((ref.get("apiGroup", ""), resource, "create"))
    return found


def other_kinds(used: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """CR status mode on a FlinkDeployment only: what it used of its custom resource (listing
    aside: every kind is listed) is what the other kinds are granted, unused here. The store
    reads and writes every kind alike."""
    return {
        (group, resource.replace("flinkdeployments", kind), verb)
        for group, resource, verb in used
        if resource.startswith("flinkdeployments") and verb != "list"
        for kind in ("flinksessionjobs", "flinkstatesnapshots")
    }


def cr_state(plane: ControlPlane, rid: ResourceId) -> tuple[Any, Any, Any]:
    """(lifecycle state, job id, job state) in the resource's custom resource's status."""
    with k8s.ApiClient(plane.configuration()) as admin:
        status = raw(admin, path_of(rid.namespace, name=rid.name)).get("status") or {}
    job = status.get("jobStatus") or {}
    return status.get("lifecycleState"), job.get("jobId"), job.get("state")


def running(world: FlinkWorld, rid: ResourceId) -> list[str] | None:
    """The running jobs, or None while the cluster is between JobManagers (a new cluster starts
    as a session cluster, then restarts as the application)."""
    try:
        return world.running_jobs(rid)
    except (AssertionError, ClusterError, FlinkApiError):
        return None


def check_watched_namespaces(
    plane: ControlPlane, namespaces: str, rid: ResourceId, home: Path
) -> None:
    settings = Settings.from_env({"GITFLINK_NAMESPACES": namespaces, "HOME": str(home)})
    with k8s.ApiClient(plane.configuration()) as api:
        runtime = wiring.kubernetes_runtime_for(api, settings, SystemClock())
        assert [h.resource for h in runtime.list_clusters()] == [rid]
        elsewhere = ResourceId(Kind.FLINK_DEPLOYMENT, "elsewhere", rid.name)
        with pytest.raises(ClusterError, match=f"GITFLINK_NAMESPACES: {namespaces}"):
            runtime.delete_cluster(elsewhere)
        assert runtime.find_cluster(elsewhere) is None
        other = dataclasses.replace(settings, namespaces=("elsewhere",))
        assert wiring.kubernetes_runtime_for(api, other, SystemClock()).list_clusters() == []


def test_the_chart_runs_a_deployment_through_its_life_with_least_privilege(
    *,
    control_plane: ControlPlane,
    namespace: str,
    release: str,
    k8s_world: FlinkWorld,
    status_mode: str,
    tmp_path: Path,
) -> None:
    world, rid = k8s_world, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, NAME)
    installed = render(chart_values(namespace, status_mode), namespace=release)
    # The agent as its pod would run it: the chart's ConfigMap (read back from the API server)
    # as its config file, the chart's environment and arguments, the ServiceAccount's token.
    with k8s.ApiClient(control_plane.configuration()) as admin:
        config_map = k8s.CoreV1Api(admin).read_namespaced_config_map(RELEASE, release)
        token = service_account_token(admin, release)
    remote = Remote(tmp_path)
    config = tmp_path / "gitflink.yaml"
    config.write_text(config_map.data["gitflink.yaml"].replace(REPO, remote.url))
    user = f"system:serviceaccount:{release}:{RELEASE}"
    kubeconfig = control_plane.kubeconfig(User(user, token), tmp_path / "kubeconfig")
    chart_env = {k: v for k, v in env_of(installed).items() if isinstance(v, str)}
    assert chart_env["GITFLINK_RUNTIME"] == "kubernetes"
    assert chart_env["GITFLINK_NAMESPACES"] == namespace
    listen = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        **chart_env,
        "GITFLINK_CONFIG": str(config),
        "GITFLINK_DATA_DIR": str(tmp_path / "agent"),
        "GITFLINK_CACHE_DIR": Settings.from_env().cache_dir.as_posix(),
        # The test bed's pods are local processes: no cluster DNS, REST at the pod's IP.
        "GITFLINK_FLINK_REST_URL": "http://{pod_ip}:8081",
        "GITFLINK_LISTEN": listen,
        "KUBECONFIG": str(kubeconfig),
    }
    (deployment,) = find(installed, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]

    def commit(**changes: object) -> None:
        files = k8s_app_manifest(NAME, namespace, tmp_path / "state", **changes)
        # A secret Flink option: the runtime applies it as a Secret, which the chart lets it
        # create and patch but never read.
        docs = {path: json.loads(json.dumps(yaml.safe_load(body))) for path, body in files.items()}
        for doc in docs.values():
            doc["spec"]["flinkConfiguration"]["fs.s3a.secret.key"] = "chart-test-secret"
        remote.commit({path: yaml.safe_dump(doc) for path, doc in docs.items()})
        remote.push()

    commit()
    log = (tmp_path / "agent.log").open("wb")
    agent = subprocess.Popen(
        [sys.executable, "-m", "gitflink", *container["args"]],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # Deploy; the chart's readiness probe answers once the first pass is done.
        first = job_id_for(rid, 1)
        wait_for(lambda: running(world, rid) == [first], 300.0, "the job deployed")
        probe = f"http://{listen}{container['readinessProbe']['httpGet']['path']}"
        wait_for(lambda: httpx.get(probe).status_code == 200, 60.0, "the agent ready")
        if status_mode == "cr":  # written with the chart's grants, in the operator's shape
            wait_for(lambda: cr_state(control_plane, rid)[1:] == (first, "RUNNING"), 60.0)
        # Savepoint upgrade: a second TaskManager, the job restored from a savepoint.
        commit(parallelism=2, rate=30)
        second = job_id_for(rid, 2)
        wait_for(lambda: running(world, rid) == [second], 300.0, "the job upgraded")
        restored = world.api(rid).checkpoints(second).restored
        assert restored is not None and "/savepoints/savepoint-" in restored
        wait_checkpoint(world.api(rid), second)
        # The runtime as the chart configures it (admin credentials here, not to count in the
        # audit below): clusters listed in the watched namespace only; another one is refused
        # before any request is sent.
        check_watched_namespaces(control_plane, namespace, rid, tmp_path / "home")
        # Delete: the file goes from Git, the job stops with a savepoint, the cluster goes.
        remote.commit({f"{namespace}/{NAME}.yaml": None})
        remote.push()
        wait_for(lambda: world.ports.runtime.find_cluster(rid) is None, 300.0, "deleted")
        if status_mode == "cr":  # the tombstone: the custom resource stays
            wait_for(lambda: cr_state(control_plane, rid)[0] == "DELETED", 60.0)
        assert "gitflink_passes_total" in httpx.get(f"http://{listen}/metrics").text
    finally:
        agent.terminate()  # SIGTERM: the pass in flight finishes, the agent exits
        agent.wait(timeout=120)
        log.close()
    assert agent.returncode == 0, (tmp_path / "agent.log").read_text()[-4000:]

    events = audited(control_plane, user)
    refused = [e for e in events if e["responseStatus"]["code"] == 403]
    assert refused == []
    assert {e["objectRef"].get("namespace") for e in events} == {namespace}
    (role,) = find(installed, "Role", namespace)
    granted = grants(role["rules"])
    assert used(events) <= granted
    assert granted - used(events) == UNUSED_BY_DESIGN | other_kinds(used(events))
