"""The process kubelet, for tests only: registers a Node, binds a namespace's pending pods, runs
their Flink containers as local processes on a loopback IP per pod, reports, probes, restarts
them per restartPolicy and stops them by pid when a pod is deleted."""

from __future__ import annotations

import contextlib
import logging
import random
import subprocess
import threading
import time
import uuid
from pathlib import Path

import kubernetes.client as k8s
from kubernetes.client.rest import ApiException

from k8s_testbed.flink_container import flink_process
from k8s_testbed.loopback import LocalhostForward
from k8s_testbed.pod_fs import PodConfigError, container_env, materialize_volumes, mount
from k8s_testbed.pod_status import ContainerRun, PodRun, due, now, probe

log = logging.getLogger(__name__)
SYNC_INTERVAL = 0.5
MAX_BACKOFF = 10.0
STOP_GRACE = 10.0
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ProcessKubelet:
    def __init__(
        self, config: k8s.Configuration, root: Path, cache_dir: Path, namespace: str
    ) -> None:
        self.api = k8s.ApiClient(config)
        self.core = k8s.CoreV1Api(self.api)
        self.api_url = config.host
        self.ca_file = config.ssl_ca_cert
        self.root, self.cache_dir, self.namespace = root, cache_dir, namespace
        self.node = f"process-node-{uuid.uuid4().hex[:6]}"
        self.subnet = random.randint(64, 250)  # 127.<subnet>.x.y: other test beds use others
        self.next_ip = 2
        self.pods: dict[str, PodRun] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.node, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.core.create_node(
            k8s.V1Node(
                metadata=k8s.V1ObjectMeta(
                    name=self.node,
                    labels={"kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux"},
                ),
                spec=k8s.V1NodeSpec(pod_cidr=f"127.{self.subnet}.0.0/16"),
            )
        )
        capacity = {"cpu": "2", "memory": "8Gi", "pods": "110"}
        ready = {
            "type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "process kubelet", "lastHeartbeatTime": now(), "lastTransitionTime": now(),
        }  # fmt: skip
        info = dict.fromkeys(("kernelVersion", "osImage", "kubeProxyVersion", "machineID",
                              "systemUUID", "bootID"), "")  # fmt: skip
        info.update(kubeletVersion="process-kubelet", operatingSystem="linux",
                    architecture="amd64", containerRuntimeVersion="process://")  # fmt: skip
        addresses = [
            {"type": "InternalIP", "address": "127.0.0.1"},
            {"type": "Hostname", "address": self.node},
        ]
        status = {"capacity": capacity, "allocatable": capacity, "addresses": addresses,
                  "conditions": [ready], "nodeInfo": info}  # fmt: skip
        self.core.patch_node_status(self.node, {"status": status})
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        for run in list(self.pods.values()):
            self._stop_containers(run, grace=STOP_GRACE)
        with contextlib.suppress(ApiException):
            self.core.delete_node(self.node)
        self.api.close()

    def pids(self) -> list[int]:
        return [
            c.process.pid
            for p in list(self.pods.values())
            for c in p.containers.values()
            if c.process and c.running
        ]

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception:  # the loop must survive a failed round, as a real kubelet does
                log.exception("process kubelet sync failed")
            self._stop.wait(SYNC_INTERVAL)

    # -- one round ------------------------------------------------------------------------------

    def sync(self) -> None:
        pods = self.core.list_namespaced_pod(self.namespace).items
        seen = set()
        for pod in pods:
            if not pod.spec.node_name and pod.metadata.deletion_timestamp is None:
                self._bind(pod)
                continue
            if pod.spec.node_name != self.node:
                continue
            seen.add(pod.metadata.uid)
            if pod.metadata.deletion_timestamp is not None:
                self._delete(pod)
            else:
                self._sync_pod(pod)
        for uid in set(self.pods) - seen:  # deleted behind our back (grace period 0)
            self._stop_containers(self.pods.pop(uid), grace=STOP_GRACE)

    def _bind(self, pod: k8s.V1Pod) -> None:
        binding = k8s.V1Binding(
            metadata=k8s.V1ObjectMeta(name=pod.metadata.name),
            target=k8s.V1ObjectReference(api_version="v1", kind="Node", name=self.node),
        )
        # The generated client cannot read the Binding it gets back (target is required there).
        with contextlib.suppress(ApiException):
            self.core.create_namespaced_pod_binding(
                pod.metadata.name, pod.metadata.namespace, binding, _preload_content=False
            )

    def _delete(self, pod: k8s.V1Pod) -> None:
        run = self.pods.pop(pod.metadata.uid, None)
        if run is not None:
            grace = min(
                float(pod.metadata.deletion_grace_period_seconds or 0) or STOP_GRACE, STOP_GRACE
            )
            self._stop_containers(run, grace=grace)
        options = k8s.V1DeleteOptions(
            grace_period_seconds=0, preconditions=k8s.V1Preconditions(uid=pod.metadata.uid)
        )
        with contextlib.suppress(ApiException):
            self.core.delete_namespaced_pod(
                pod.metadata.name, pod.metadata.namespace, body=options, grace_period_seconds=0
            )

    def _sync_pod(self, pod: k8s.V1Pod) -> None:
        run = self.pods.get(pod.metadata.uid)
        if run is None:
            ip = f"127.{self.subnet}.{self.next_ip // 250}.{self.next_ip % 250 + 2}"
            self.next_ip += 1
            directory = (
                self.root / f"{pod.metadata.namespace}_{pod.metadata.name}_{pod.metadata.uid[:8]}"
            )
            run = PodRun(pod.metadata.uid, pod.metadata.namespace, pod.metadata.name, ip, directory)
            run.containers = {c.name: ContainerRun(c.name, c.image) for c in pod.spec.containers}
            self.pods[run.uid] = run
        policy = pod.spec.restart_policy or "Always"
        for container in pod.spec.containers:
            self._sync_container(pod, run, container, policy)
        status = run.status()
        if status != run.reported:
            with contextlib.suppress(ApiException):
                self.core.patch_namespaced_pod_status(
                    run.name,
                    run.namespace,
                    {"status": status},
                    _content_type="application/merge-patch+json",
                )
                run.reported = status

    def _sync_container(
        self, pod: k8s.V1Pod, run: PodRun, container: k8s.V1Container, policy: str
    ) -> None:
        state = run.containers[container.name]
        if state.process is not None and not state.running:
            ended = state.record_exit(state.process.returncode)
            if policy == "Always" or (policy == "OnFailure" and ended["exitCode"] != 0):
                state.last_terminated = ended
                state.restarts += 1
                state.next_start = time.monotonic() + min(2.0 ** (state.restarts - 1), MAX_BACKOFF)
                state.waiting = ("CrashLoopBackOff", f"back-off restarting {container.name}")
            else:
                state.terminated = ended
        if state.running:
            spec = container.readiness_probe
            if due(state, spec):
                ports = {p.name: p.container_port for p in container.ports or [] if p.name}
                state.ready = probe(spec, ports, run.ip)
            return
        if state.terminated is None and time.monotonic() >= state.next_start:
            self._start_container(pod, run, container, state)

    def _start_container(
        self, pod: k8s.V1Pod, run: PodRun, container: k8s.V1Container, state: ContainerRun
    ) -> None:
        workdir = run.directory / "containers" / container.name
        rootfs = workdir / "rootfs"
        try:
            volumes = materialize_volumes(self.core, pod, run.directory, run.ip)
            mounts = mount(container, volumes, rootfs)
            env = {
                **BASE_ENV,
                **self._cluster_env(mounts, rootfs),
                **container_env(self.core, pod, container, run.ip),
            }
            process = flink_process(
                container=container, env=env, rootfs=rootfs, mounts=mounts, workdir=workdir,
                pod_ip=run.ip, resolve_host=lambda host: self.resolve(host, run),
                cache_dir=self.cache_dir, blob_port=self._localhost(run, container.name).port,
            )  # fmt: skip
        except (PodConfigError, LookupError, ApiException) as error:
            state.waiting = ("CreateContainerConfigError", str(error))
            state.next_start = time.monotonic() + 1.0
            return
        with (workdir / f"{container.name}.out").open("ab") as out:
            state.process = subprocess.Popen(
                process.command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=process.cwd, env=process.env, start_new_session=True,
            )  # fmt: skip
        state.started_at, state.image_id = (
            now(),
            f"process-kubelet://flink@{process.install.version}",
        )
        state.next_probe = time.monotonic() + float(
            (container.readiness_probe.initial_delay_seconds or 0)
            if container.readiness_probe
            else 0
        )

    def _cluster_env(self, mounts: list[str], rootfs: Path) -> dict[str, str]:
        """What a pod learns about the API server: the service env and, for fabric8, files."""
        host, _, port = self.api_url.removeprefix("https://").partition(":")
        env = {
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
            "KUBERNETES_MASTER": self.api_url,
        }
        if SA_DIR in mounts:
            account = rootfs / SA_DIR.lstrip("/")
            env["KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN"] = str(account / "token")
            env["KUBERNETES_CERTS_CA_FILE"] = str(account / "ca.crt")
        elif self.ca_file:
            env["KUBERNETES_CERTS_CA_FILE"] = str(self.ca_file)
        return env

    def _localhost(self, run: PodRun, container: str) -> LocalhostForward:
        if container not in run.forwards:
            run.forwards[container] = LocalhostForward(run.ip)
        return run.forwards[container]

    # -- names ----------------------------------------------------------------------------------

    def resolve(self, host: str, run: PodRun) -> str:
        """A host name as cluster DNS answers it: a Service -> the IP of a ready pod behind it.

        From the Service's selector, not its EndpointSlices: the API server refuses loopback
        addresses in those, so the controller cannot list these pods there.
        """
        if host in {"", "localhost", "127.0.0.1", "0.0.0.0", run.name}:
            return run.ip
        if host[0].isdigit():
            return host
        parts = host.removesuffix(".cluster.local").removesuffix(".svc").split(".")
        namespace = parts[1] if len(parts) > 1 else run.namespace
        service = self.core.read_namespaced_service(parts[0], namespace)
        selector = ",".join(f"{k}={v}" for k, v in (service.spec.selector or {}).items())
        pods = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        ready = sorted(
            p.status.pod_ip
            for p in pods
            if selector
            and p.status.pod_ip
            and p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        )
        if not ready:
            raise LookupError(f"service {namespace}/{parts[0]} has no ready pod yet")
        return str(ready[0])

    def _stop_containers(self, run: PodRun, grace: float) -> None:
        for forward in run.forwards.values():
            forward.close()
        running = [
            c.process
            for c in run.containers.values()
            if c.process is not None and c.process.poll() is None
        ]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
