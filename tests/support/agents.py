"""`gitflink agent` as a real process for tests: started with its own environment, log file and
port, asked over HTTP (/readyz, /metrics), signalled and stopped by its pid."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gitflink.adapters.local_runtime.cluster import free_port
from support.flink_fixtures import wait_for

__all__ = ["AgentProcess", "wait_for"]


@dataclass
class AgentProcess:
    """One agent following `repo`, its files under `root`; `env` on top of a clean one."""

    name: str
    root: Path
    repo: str
    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ("--interval", "1")
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def identity(self) -> str:
        """What it calls itself in the Lease (adapters.kubernetes_runtime.hosting.identity)."""
        return f"{socket.gethostname()}_{self.pid}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AgentProcess:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root / "home"),
            "GITFLINK_DATA_DIR": str(self.root / "data"),
            "GITFLINK_CACHE_DIR": str(self.root / "cache"),
            "GITFLINK_LISTEN": f"127.0.0.1:{self.port}",
            "GITFLINK_GIT_AUTHOR_NAME": self.name,
            **self.env,
        }
        command = [sys.executable, "-m", "gitflink", "agent", "--repo", self.repo, *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGCONT (it may be stopped), SIGTERM, SIGKILL after 30 s; its exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return None

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.url + path, timeout=2)
        except httpx.HTTPError:
            return None

    def ready(self) -> bool:
        response = self.get("/readyz")
        return response is not None and response.status_code == 200

    def metric(self, name: str, labels: str = "") -> float | None:
        """A sample's value from /metrics, `labels` as exposed (`result="standby"`)."""
        response = self.get("/metrics")
        if response is None:
            return None
        wanted = re.escape(name + (f"{{{labels}}}" if labels else ""))
        found = re.search(rf"^{wanted} (\S+)$", response.text, re.MULTILINE)
        return float(found[1]) if found else None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
