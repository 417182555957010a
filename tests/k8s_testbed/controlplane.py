"""A real Kubernetes control plane for tests: etcd, kube-apiserver (TLS, static tokens, RBAC,
audit log) and kube-controller-manager on 127.0.0.1, data in one dir, stopped by pid."""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client as k8s

from gitflink.adapters.local_runtime.cluster import free_port
from k8s_testbed.build import binaries
from k8s_testbed.pki import Pki, make_pki

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
SERVICE_CIDR = "10.96.0.0/16"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
# What the tests and Flink's native mode need; the rest would only cost CPU on 2 cores.
CONTROLLERS = (
    "garbage-collector-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "job-controller",
    "endpointslice-controller",
    "endpoints-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    "pod-garbage-collector-controller",
)
AGENTS = ("gitflink-agent-a", "gitflink-agent-b")  # two agents, told apart in the audit log
# Request and response bodies of what gitflink's users write (canary secrets are searched in
# them; leader fencing counts them), Secrets only as metadata (their bodies are secrets), the
# rest (controllers, reads) as metadata: the log stays small.
AUDIT_POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: ["/readyz*", "/livez*", "/healthz*"]
  - level: Metadata
    resources: [{{group: "", resources: [secrets]}}]
  - level: RequestResponse
    users: [gitflink-user, {", ".join(AGENTS)}]
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
"""


@dataclass(frozen=True)
class User:
    name: str
    token: str
    groups: tuple[str, ...] = ()


@dataclass
class ControlPlane:
    """One cluster under `root`; `start()` returns once the API server and controllers work."""

    root: Path
    admin: User = field(
        default_factory=lambda: User("admin", secrets.token_hex(16), ("system:masters",))
    )
    user: User = field(default_factory=lambda: User("gitflink-user", secrets.token_hex(16)))
    agents: tuple[User, ...] = field(
        default_factory=lambda: tuple(User(name, secrets.token_hex(16)) for name in AGENTS)
    )
    controller_manager: User = field(
        default_factory=lambda: User("system:kube-controller-manager", secrets.token_hex(16))
    )
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    port: int = 0
    startup_seconds: float = 0.0
    with_controllers: bool = True  # False: etcd and kube-apiserver only

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.log"

    @property
    def ca_cert(self) -> Path:
        return self.root / "pki" / "ca.crt"

    @property
    def sa_key(self) -> Path:
        return self.root / "pki" / "sa.key"

    def audit_events(self) -> list[dict[str, Any]]:
        """Every event the audit log holds so far (one JSON object a line)."""
        if not self.audit_log.exists():
            return []
        events = []
        for line in self.audit_log.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # the line the API server is writing right now
        return events

    def configuration(self, user: User | None = None) -> k8s.Configuration:
        config = k8s.Configuration(host=self.url)
        # The whole header value under "authorization": every client version since 33 sends it.
        config.api_key = {"authorization": f"Bearer {(user or self.admin).token}"}
        config.ssl_ca_cert = str(self.ca_cert)
        config.verify_ssl = True
        return config

    def kubeconfig(self, user: User, path: Path) -> Path:
        # JSON is YAML: kubeconfig readers accept it.
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "t",
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca_cert)},
                }
            ],
            "users": [{"name": user.name, "user": {"token": user.token}}],
            "contexts": [{"name": "t", "context": {"cluster": "t", "user": user.name}}],
            "current-context": "t",
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    def start(self) -> None:
        started = time.monotonic()
        programs = binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        pki = make_pki(self.root / "pki")
        etcd_port, peer_port, self.port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self._run("etcd", [
            str(programs["etcd"]), "--name", "testbed", "--data-dir", str(self.root / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"testbed=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])  # fmt: skip
        self._run("kube-apiserver", self._apiserver_args(programs["kube-apiserver"], pki, etcd_url))
        self._wait_ready()
        if self.with_controllers:
            self._start_controllers(programs["kube-controller-manager"], pki)
        self.startup_seconds = round(time.monotonic() - started, 1)

    def _start_controllers(self, program: Path, pki: Pki) -> None:
        kubeconfig = self.kubeconfig(self.controller_manager, self.root / "kcm.kubeconfig")
        self._run("kube-controller-manager", [
            str(program), "--kubeconfig", str(kubeconfig),
            "--controllers", ",".join(CONTROLLERS), "--leader-elect=false",
            "--bind-address=127.0.0.1", "--secure-port=0",
            "--service-account-private-key-file", str(pki.sa_key),
            "--root-ca-file", str(pki.ca_cert), "--service-cluster-ip-range", SERVICE_CIDR,
            # Each controller acts as its own service account, under the bootstrap RBAC roles.
            "--use-service-account-credentials=true", "-v=1",
        ])  # fmt: skip
        self._wait_controllers()

    def stop(self) -> None:
        # The controllers first, the store last, so nothing logs errors about a vanished etcd.
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            process = self.processes.pop(name, None)
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)

    def _apiserver_args(self, program: Path, pki: Pki, etcd_url: str) -> list[str]:
        tokens = self.root / "tokens.csv"
        tokens.write_text(
            "".join(
                f'{u.token},{u.name},{u.name},"{",".join(u.groups)}"\n'
                for u in (self.admin, self.user, self.controller_manager, *self.agents)
            )
        )
        policy = self.root / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        return [
            str(program), "--etcd-servers", etcd_url,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            "--tls-cert-file", str(pki.serving_cert),
            "--tls-private-key-file", str(pki.serving_key),
            "--client-ca-file", str(pki.ca_cert),
            "--token-auth-file", str(tokens), "--authorization-mode=RBAC",
            "--service-account-issuer", SA_ISSUER,
            "--service-account-key-file", str(pki.sa_pub),
            "--service-account-signing-key-file", str(pki.sa_key),
            "--service-cluster-ip-range", SERVICE_CIDR,
            "--audit-policy-file", str(policy), "--audit-log-path", str(self.audit_log),
            # The endpoint reconciler refuses a loopback address for the kubernetes Service.
            "--endpoint-reconciler-type=none",
            "--cert-dir", str(self.root / "certs"), "--profiling=false", "-v=1",
        ]  # fmt: skip

    def _run(self, name: str, command: list[str]) -> None:
        # Our own children, each in a session of its own: stopped by pid through Popen, which
        # also knows when one has exited (no /proc guessing, no pid reuse).
        with (self.root / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.root, env={"PATH": "/usr/bin:/bin"}, start_new_session=True,
            )  # fmt: skip

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.root / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"{name} (pid {process.pid}) exited with {process.returncode} during "
                    f"start-up:\n{tail}"
                )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        headers = {"Authorization": f"Bearer {self.admin.token}"}
        tls = ssl.create_default_context(cafile=str(self.ca_cert))
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                response = httpx.get(f"{self.url}/readyz", headers=headers, verify=tls, timeout=2)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"kube-apiserver not ready after {READY_TIMEOUT:.0f} s; see {self.root}")

    def _wait_controllers(self) -> None:
        """The serviceaccount controller's first act, a 'default' ServiceAccount, proves them up."""
        with k8s.ApiClient(self.configuration()) as api:
            core = k8s.CoreV1Api(api)
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline:
                self._check_alive()
                accounts = core.list_namespaced_service_account("default").items
                if any(a.metadata.name == "default" for a in accounts):
                    return
                time.sleep(0.2)
        raise RuntimeError(f"kube-controller-manager not working after {READY_TIMEOUT:.0f} s")
