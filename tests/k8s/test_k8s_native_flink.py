"""Flink's native Kubernetes mode on the test bed, the path the Flink Kubernetes Operator takes:
Flink's own client deploys a session cluster, the JobManager pod creates a TaskManager pod for a
job through the API server, and deleting the JobManager Deployment cascades to both."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.kubelet import ProcessKubelet
from support.flink_fixtures import wait_for

from gitflink.adapters.flink_rest import FlinkRest
from gitflink.adapters.local_runtime.building import EXAMPLE_JAR, EXAMPLE_MAIN, build_example_jars
from gitflink.adapters.local_runtime.cluster import pid_alive
from gitflink.adapters.local_runtime.configuring import JAVA17_OPTS
from gitflink.adapters.local_runtime.installing import flink_install
from gitflink.model.flink import RunRequest
from gitflink.model.resources import FlinkVersion
from gitflink.settings import Settings

pytestmark = [pytest.mark.k8s, pytest.mark.flink]

SESSION_CLI = "org.apache.flink.kubernetes.cli.KubernetesSessionCli"


def deploy_native_session(plane: ControlPlane, namespace: str, work: Path) -> None:
    """What `kubernetes-session.sh -Dkubernetes.cluster-id=native ...` does, from this machine."""
    install = flink_install(Settings.from_env().cache_dir, FlinkVersion.V1_20)
    conf = work / "client-conf"
    conf.mkdir(parents=True)
    (conf / "config.yaml").write_text(
        "\n".join(
            [
                "kubernetes.cluster-id: native",
                f"kubernetes.namespace: {namespace}",
                "kubernetes.container.image.ref: flink:1.20",
                "kubernetes.service-account: flink",
                "kubernetes.rest-service.exposed.type: ClusterIP",
                "taskmanager.numberOfTaskSlots: 2",
                "jobmanager.memory.process.size: 1g",
                "taskmanager.memory.process.size: 1g",
                "web.refresh-interval: 200",
            ]
        )
        + "\n"
    )
    for log_config in (install.home / "conf").glob("log4j*.properties"):
        (conf / log_config.name).write_bytes(log_config.read_bytes())
    kubeconfig = plane.kubeconfig(plane.admin, work / "kubeconfig")
    result = subprocess.run(
        ["java", *JAVA17_OPTS, "-cp", install.classpath(), SESSION_CLI],
        env={
            "PATH": "/usr/bin:/bin",
            "FLINK_CONF_DIR": str(conf),
            "KUBECONFIG": str(kubeconfig),
            "HOME": str(work),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_flinks_native_client_deploys_a_session_whose_jobmanager_creates_taskmanager_pods(
    control_plane: ControlPlane,
    kube_api: k8s.ApiClient,
    namespace: str,
    process_kubelet: ProcessKubelet,
    tmp_path: Path,
) -> None:
    core, apps, rbac = (
        k8s.CoreV1Api(kube_api),
        k8s.AppsV1Api(kube_api),
        k8s.RbacAuthorizationV1Api(kube_api),
    )
    core.create_namespaced_service_account(
        namespace, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="flink"))
    )
    rbac.create_namespaced_role_binding(
        namespace,
        k8s.V1RoleBinding(
            metadata=k8s.V1ObjectMeta(name="flink-edit"),
            role_ref=k8s.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="edit"
            ),
            subjects=[k8s.RbacV1Subject(kind="ServiceAccount", name="flink", namespace=namespace)],
        ),
    )
    deploy_native_session(control_plane, namespace, tmp_path)
    assert apps.read_namespaced_deployment("native", namespace).spec.replicas == 1

    def jobmanager_ip() -> str | None:
        pods = core.list_namespaced_pod(namespace, label_selector="component=jobmanager").items
        running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
        return running[0].status.pod_ip if running else None

    ip = wait_for(jobmanager_ip, timeout=120, what="the JobManager pod to run")
    rest = FlinkRest(f"http://{ip}:8081")
    try:
        wait_for(lambda: _answers(rest), timeout=120, what="the JobManager's REST API")
        assert rest.overview().taskmanagers == 0  # native mode starts TaskManagers on demand
        install = flink_install(Settings.from_env().cache_dir, FlinkVersion.V1_20)
        jar = rest.upload_jar(
            build_example_jars(Settings.from_env().cache_dir, install) / EXAMPLE_JAR
        )
        job = rest.run_jar(
            jar, RunRequest(entry_class=EXAMPLE_MAIN, parallelism=2, args=("--rate", "10"))
        )
        wait_for(
            lambda: rest.job_details(job).all_vertices_running, timeout=180, what="the job to run"
        )
    finally:
        rest.close()
    taskmanagers = core.list_namespaced_pod(namespace, label_selector="component=taskmanager").items
    assert len(taskmanagers) == 1
    assert taskmanagers[0].metadata.owner_references[0].kind == "Deployment"
    pids = process_kubelet.pids()
    assert len(pids) == 2
    pod_dirs = [str(run.directory) for run in process_kubelet.pods.values()]

    apps.delete_namespaced_deployment("native", namespace, propagation_policy="Background")
    wait_for(
        lambda: not core.list_namespaced_pod(namespace).items, timeout=60, what="the pods to go"
    )
    wait_for(
        lambda: not any(pid_alive(pid, d) for pid in pids for d in pod_dirs),
        timeout=30,
        what="the JVMs to stop",
    )


def _answers(rest: FlinkRest) -> bool:
    try:
        rest.overview()
    except Exception:
        return False
    return True
