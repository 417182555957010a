"""What the process kubelet knows about one pod's containers, and the PodStatus it reports.

Readiness probes (httpGet, tcpSocket) are run against the pod's loopback IP.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from k8s_testbed.loopback import LocalhostForward


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerRun:
    name: str
    image: str
    process: subprocess.Popen[bytes] | None = None
    started_at: str = ""
    restarts: int = 0
    last_terminated: dict[str, Any] | None = None
    terminated: dict[str, Any] | None = None  # set when it exited and will not be restarted
    waiting: tuple[str, str] = ("ContainerCreating", "")
    next_start: float = 0.0
    ready: bool = False
    image_id: str = ""
    next_probe: float = 0.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def record_exit(self, code: int) -> dict[str, Any]:
        exit_code = 128 - code if code < 0 else code  # a signal, as a shell would report it
        state = {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": self.started_at,
            "finishedAt": now(),
            "containerID": self.container_id,
        }
        self.process, self.ready = None, False
        return state

    @property
    def container_id(self) -> str:
        return f"process://{self.process.pid}" if self.process is not None else ""

    def status(self) -> dict[str, Any]:
        if self.running:
            state: dict[str, Any] = {"running": {"startedAt": self.started_at}}
        elif self.terminated is not None:
            state = {"terminated": self.terminated}
        else:
            reason, message = self.waiting
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        status = {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id,
            "ready": self.ready,
            "started": self.running,
            "restartCount": self.restarts,
            "state": state,
            "lastState": {"terminated": self.last_terminated} if self.last_terminated else {},
        }
        if self.running:
            status["containerID"] = self.container_id
        return status


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    ip: str
    directory: Path
    containers: dict[str, ContainerRun] = field(default_factory=dict)
    start_time: str = field(default_factory=now)
    transitions: dict[str, tuple[str, str]] = field(default_factory=dict)
    reported: dict[str, Any] | None = None
    forwards: dict[str, LocalhostForward] = field(default_factory=dict)  # by container

    def phase(self) -> str:
        runs = list(self.containers.values())
        if runs and all(r.terminated is not None for r in runs):
            return "Succeeded" if all(r.terminated["exitCode"] == 0 for r in runs) else "Failed"  # type: ignore[index]
        if any(r.running or r.restarts or r.last_terminated for r in runs):
            return "Running"
        return "Pending"

    def _condition(self, kind: str, ok: bool) -> dict[str, str]:
        value = "True" if ok else "False"
        previous = self.transitions.get(kind)
        if previous is None or previous[0] != value:
            self.transitions[kind] = (value, now())
        return {"type": kind, "status": value, "lastTransitionTime": self.transitions[kind][1]}

    def status(self) -> dict[str, Any]:
        ready = bool(self.containers) and all(r.ready for r in self.containers.values())
        return {
            "phase": self.phase(),
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": self.ip,
            "podIPs": [{"ip": self.ip}],
            "startTime": self.start_time,
            "conditions": [
                self._condition("PodScheduled", True),
                self._condition("Initialized", True),
                self._condition("ContainersReady", ready),
                self._condition("Ready", ready),
            ],
            "containerStatuses": [r.status() for r in self.containers.values()],
        }


def probe(spec: Any, ports: dict[str, int], ip: str) -> bool:
    """One readiness probe; a container without one is ready while it runs."""
    if spec is None:
        return True
    if spec.http_get is not None:
        port = spec.http_get.port
        port = ports.get(port, 0) if isinstance(port, str) and not port.isdigit() else int(port)
        scheme = (spec.http_get.scheme or "HTTP").lower()
        try:
            response = httpx.get(
                f"{scheme}://{ip}:{port}{spec.http_get.path or '/'}", timeout=1.0, verify=False
            )
        except httpx.HTTPError:
            return False
        return 200 <= response.status_code < 400
    if spec.tcp_socket is not None:
        port = spec.tcp_socket.port
        port = ports.get(port, 0) if isinstance(port, str) and not port.isdigit() else int(port)
        try:
            with socket.create_connection((ip, port), timeout=1.0):
                return True
        except OSError:
            return False
    return True  # exec and grpc probes cannot run here: running counts as ready


def due(run: ContainerRun, spec: Any) -> bool:
    period = max(1, (spec.period_seconds if spec is not None else 1) or 1)
    if time.monotonic() < run.next_probe:
        return False
    run.next_probe = time.monotonic() + period
    return True
