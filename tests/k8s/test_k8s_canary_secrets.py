"""Canary secrets through a real agent pass on the Kubernetes runtime: a session cluster whose
flinkConfiguration holds canaries comes up on the test bed (process kubelet), the agent fetching
and writing status over smart HTTP behind the canary Git credentials, with the canary webhook
secret. No canary may be in a request body the agent sent to the API server (the audit log holds
gitflink users' writes at RequestResponse level; Secrets only as metadata), in its log at DEBUG,
in a status document or a status commit. The configuration file reaches Flink through a Secret
(gitflink/core/rendering/secrets.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.kubelet import ProcessKubelet
from support.agents import AgentProcess, wait_for
from support.canaries import Canaries, canaries
from support.git_http import GitHttpServer
from support.gitrepos import Remote, run_git
from support.sync_flink_support import app_manifest, yaml_bytes

pytestmark = [pytest.mark.k8s, pytest.mark.flink]
__all__ = ["canaries"]  # a fixture, imported for pytest to find

STATUS = "status/{namespace}/flinkdeployment/session.yaml"


@pytest.fixture
def agent_user(control_plane: ControlPlane, kube_api: k8s.ApiClient) -> Iterator[str]:
    """Agent a may do anything while the test runs (this test is about leaks, not RBAC)."""
    user = control_plane.agents[0].name
    rbac = k8s.RbacAuthorizationV1Api(kube_api)
    binding = k8s.V1ClusterRoleBinding(
        metadata=k8s.V1ObjectMeta(name="gitflink-canary-test"),
        role_ref=k8s.V1RoleRef(
            kind="ClusterRole", name="cluster-admin", api_group="rbac.authorization.k8s.io"
        ),
        subjects=[k8s.RbacV1Subject(kind="User", name=user, api_group="rbac.authorization.k8s.io")],
    )
    rbac.create_cluster_role_binding(binding)
    try:
        yield user
    finally:
        rbac.delete_cluster_role_binding("gitflink-canary-test")


def test_no_canary_reaches_the_api_server_the_log_or_the_status_branch(
    *,
    canaries: Canaries,
    control_plane: ControlPlane,
    agent_user: str,
    namespace: str,
    process_kubelet: ProcessKubelet,
    tmp_path: Path,
) -> None:
    session = app_manifest("v1_20", "session", namespace=namespace)
    del session["spec"]["job"]
    session["spec"]["image"] = "flink:1.20"
    remote = Remote(tmp_path)
    remote.commit({"session.yaml": yaml_bytes(canaries.seed(session)).decode()})
    remote.push()
    server = GitHttpServer(tmp_path, "gitflink-bot", canaries.git_token).start()
    kubeconfig = control_plane.kubeconfig(control_plane.agents[0], tmp_path / "kubeconfig")
    env = {
        **canaries.env(),
        "KUBECONFIG": str(kubeconfig),
        "GITFLINK_RUNTIME": "kubernetes",
        "GITFLINK_FLINK_REST_URL": "http://{pod_ip}:8081",
        "GITFLINK_LOG_LEVEL": "DEBUG",
    }
    url = server.url(remote.bare.name)
    agent = AgentProcess("agent", tmp_path / "agent", url, env, ("--interval", "30")).start()
    canaries.watch_file(agent.log, "the agent's log")
    canaries.watch_repo(remote.bare)
    canaries.watch_audit(control_plane.audit_events, {agent_user})
    status = STATUS.format(namespace=namespace)
    try:
        wait_for(lambda: document(remote, status), timeout=240, what="the session's status")
    finally:
        agent.stop()
        server.stop()
    assert "state: DEPLOYED" in (document(remote, status) or ""), agent.output()[-3000:]
    # The pass really sent what holds the configuration: the ConfigMap with its body in the
    # audit log, the Secret as metadata only, and Flink runs with the canary from the Secret.
    writes = [
        e
        for e in control_plane.audit_events()
        if e["user"]["username"] == agent_user and e["verb"] in {"create", "update", "patch"}
    ]
    configmaps = [e for e in writes if e["objectRef"]["resource"] == "configmaps"]
    assert configmaps and all("requestObject" in e for e in configmaps)
    written = [e for e in writes if e["objectRef"]["resource"] == "secrets"]
    assert written and all("requestObject" not in e for e in written)
    with k8s.ApiClient(control_plane.configuration()) as api:
        stored = k8s.CoreV1Api(api).read_namespaced_secret(
            "flink-config-session-secrets", namespace
        )
    assert canaries.value("s3.secret-key") in base64.b64decode(stored.data["config.yaml"]).decode()
    canaries.check()


def document(remote: Remote, path: str) -> str | None:
    if "gitflink/status" not in run_git(remote.bare, "branch"):
        return None
    try:
        return run_git(remote.bare, "show", f"gitflink/status:{path}")
    except Exception:
        return None
