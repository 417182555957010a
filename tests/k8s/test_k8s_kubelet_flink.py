"""Pods on the test bed run as real Flink processes through the process kubelet: a Deployment's
pod with a JobManager and a TaskManager answers Flink REST at its pod IP, ConfigMap and Secret
volumes reach it as files, and deleting the Deployment stops the processes."""

from __future__ import annotations

import os
import signal

import httpx
import kubernetes.client as k8s
import pytest
from k8s_testbed.kubelet import ProcessKubelet
from support.flink_fixtures import wait_for

from gitflink.adapters.local_runtime.building import EXAMPLE_MAIN
from gitflink.adapters.local_runtime.cluster import pid_alive

pytestmark = [pytest.mark.k8s, pytest.mark.flink]

FLINK_CONFIG = """\
taskmanager.numberOfTaskSlots: 3
rest.port: 8081
pipeline.name: from-the-configmap
"""
CONF = k8s.V1VolumeMount(name="flink-config", mount_path="/opt/flink/conf")
SECRETS = k8s.V1VolumeMount(name="creds", mount_path="/opt/flink/secrets", read_only=True)


def flink_container(name: str, mode: str, **extra: object) -> k8s.V1Container:
    return k8s.V1Container(
        name=name,
        image="flink:1.20",
        args=[mode],
        env=[
            k8s.V1EnvVar(name="FLINK_PROPERTIES", value="jobmanager.rpc.address: localhost\n"),
            k8s.V1EnvVar(
                name="S3_KEY",
                value_from=k8s.V1EnvVarSource(
                    secret_key_ref=k8s.V1SecretKeySelector(name="creds", key="access-key")
                ),
            ),
        ],
        volume_mounts=[CONF, SECRETS],
        **extra,
    )


def session_deployment(name: str) -> k8s.V1Deployment:
    labels = {"app": name}
    probe = k8s.V1Probe(
        http_get=k8s.V1HTTPGetAction(path="/overview", port="rest"), period_seconds=1
    )
    jobmanager = flink_container(
        "jobmanager",
        "jobmanager",
        ports=[k8s.V1ContainerPort(name="rest", container_port=8081)],
        readiness_probe=probe,
    )
    volumes = [
        k8s.V1Volume(
            name="flink-config", config_map=k8s.V1ConfigMapVolumeSource(name="flink-config")
        ),
        k8s.V1Volume(name="creds", secret=k8s.V1SecretVolumeSource(secret_name="creds")),
    ]
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name),
        spec=k8s.V1DeploymentSpec(
            replicas=1,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(
                    containers=[jobmanager, flink_container("taskmanager", "taskmanager")],
                    volumes=volumes,
                ),
            ),
        ),
    )


def ready_pod(core: k8s.CoreV1Api, namespace: str) -> k8s.V1Pod | None:
    for pod in core.list_namespaced_pod(namespace).items:
        conditions = {c.type: c.status for c in pod.status.conditions or []}
        if conditions.get("Ready") == "True":
            return pod
    return None


def test_a_deployment_runs_a_flink_session_cluster_at_its_pod_ip_until_it_is_deleted(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet
) -> None:
    core, apps = k8s.CoreV1Api(kube_api), k8s.AppsV1Api(kube_api)
    core.create_namespaced_config_map(
        namespace,
        k8s.V1ConfigMap(
            metadata=k8s.V1ObjectMeta(name="flink-config"), data={"config.yaml": FLINK_CONFIG}
        ),
    )
    core.create_namespaced_secret(
        namespace,
        k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="creds"), string_data={"access-key": "s3cr3t"}),
    )
    apps.create_namespaced_deployment(namespace, session_deployment("session"))

    pod = wait_for(
        lambda: ready_pod(core, namespace), timeout=180, what="the Flink pod to be Ready"
    )
    ip = pod.status.pod_ip
    assert ip.startswith("127.") and ip != "127.0.0.1"
    assert pod.status.phase == "Running"
    assert {s.name: (s.ready, s.restart_count) for s in pod.status.container_statuses} == {
        "jobmanager": (True, 0),
        "taskmanager": (True, 0),
    }
    # The TaskManager found the JobManager at localhost, that is the pod's own IP.
    overview = wait_for(
        lambda: (
            (o := httpx.get(f"http://{ip}:8081/overview", timeout=2).json())["taskmanagers"] == 1
            and o["slots-total"] > 0  # a TaskManager registers first, then reports its slots
            and o
        ),
        timeout=60,
        what="the TaskManager to register",
    )
    assert overview["slots-total"] == 3  # from the ConfigMap's config.yaml
    config = {e["key"]: e["value"] for e in httpx.get(f"http://{ip}:8081/jobmanager/config").json()}
    assert config["pipeline.name"] == "from-the-configmap"
    assert config["rest.bind-address"] == ip
    run = process_kubelet.pods[pod.metadata.uid]
    secret_file = run.directory / "volumes" / "creds" / "access-key"
    assert secret_file.read_text() == "s3cr3t"

    pids = process_kubelet.pids()
    assert len(pids) == 2
    apps.delete_namespaced_deployment("session", namespace, propagation_policy="Background")
    wait_for(
        lambda: (
            not core.list_namespaced_pod(namespace).items
            and not apps.list_namespaced_replica_set(namespace).items
        ),
        timeout=60,
        what="the garbage collector to delete the ReplicaSet and the pod",
    )
    wait_for(
        lambda: not any(pid_alive(p, str(run.directory)) for p in pids),
        timeout=30,
        what="the JVMs to stop",
    )
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{ip}:8081/overview", timeout=2)


def test_a_crashed_container_is_restarted_per_the_restart_policy(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet
) -> None:
    core = k8s.CoreV1Api(kube_api)

    def pod(name: str, policy: str) -> k8s.V1Pod:
        container = k8s.V1Container(name="jm", image="flink:1.20", args=["jobmanager"])
        return k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name=name),
            spec=k8s.V1PodSpec(containers=[container], restart_policy=policy),
        )

    core.create_namespaced_pod(namespace, pod("always", "Always"))
    core.create_namespaced_pod(namespace, pod("never", "Never"))

    def running(name: str) -> k8s.V1ContainerStatus | None:
        statuses = core.read_namespaced_pod(name, namespace).status.container_statuses or []
        return next((s for s in statuses if s.state.running is not None), None)

    for name in ("always", "never"):
        wait_for(lambda n=name: running(n), timeout=120, what=f"pod {name} to run")
    for run in process_kubelet.pods.values():
        os.kill(run.containers["jm"].process.pid, signal.SIGKILL)  # type: ignore[union-attr]

    restarted = wait_for(
        lambda: (s := running("always")) and s.restart_count == 1 and s,
        timeout=60,
        what="a restart",
    )
    assert restarted.last_state.terminated.exit_code == 137
    failed = wait_for(
        lambda: (p := core.read_namespaced_pod("never", namespace)).status.phase == "Failed" and p,
        timeout=30,
        what="the Never pod to fail",
    )
    status = failed.status.container_statuses[0]
    assert (status.restart_count, status.state.terminated.exit_code) == (0, 137)


def test_a_standalone_job_pod_runs_its_job_from_the_image_path(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet
) -> None:
    core = k8s.CoreV1Api(kube_api)
    jar = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"
    jobmanager = k8s.V1Container(
        name="jobmanager",
        image="flink:1.20",
        # --jars takes several values: the job class option ends them.
        args=["standalone-job", "--jars", jar, "--job-classname", EXAMPLE_MAIN, "--rate", "5"],
    )
    taskmanager = k8s.V1Container(name="taskmanager", image="flink:1.20", args=["taskmanager"])
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="app"),
        spec=k8s.V1PodSpec(containers=[jobmanager, taskmanager], restart_policy="OnFailure"),
    )
    core.create_namespaced_pod(namespace, pod)
    ip = wait_for(
        lambda: core.read_namespaced_pod("app", namespace).status.pod_ip, what="the pod's IP"
    )

    def running_jobs() -> list[dict[str, object]] | None:
        try:
            jobs = httpx.get(f"http://{ip}:8081/jobs/overview", timeout=2).json()["jobs"]
        except (httpx.HTTPError, KeyError):
            return None
        return [j for j in jobs if j["state"] == "RUNNING"] or None

    jobs = wait_for(running_jobs, timeout=120, what="the application's job to run")
    assert [j["name"] for j in jobs] == ["gitflink-counter-job"]
