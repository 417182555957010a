"""Processes of one local cluster: start, check, adopt and stop, always by pid, never by name.

The state file (cluster.json in the cluster dir) lets a later gitflink process adopt the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gitflink.model.errors import ClusterError

STOP_TIMEOUT = 15.0
READY_TIMEOUT = 90.0
POLL = 0.2


@dataclass(frozen=True)
class ClusterState:
    """What was started; written to cluster.json in the cluster dir."""

    namespace: str
    name: str
    root: str  # the cluster dir; every process's command line contains it
    version: str
    flink_home: str
    rest_port: int
    rpc_port: int
    slots_per_tm: int
    fingerprint: str  # of the configuration; a different one needs a fresh cluster
    jm_pid: int
    tm_pids: tuple[int, ...] = ()
    java_opts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per role, from spec
    savepoint_dir: str = ""
    checkpoint_dir: str = ""
    started_at: float = field(default_factory=time.time)
    # The status store that manages the cluster ("" before owners were recorded): one cluster
    # has one status store, so `sync`'s files and an agent's branch never share it.
    owner: str = ""

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def pids(self) -> tuple[int, ...]:
        return (self.jm_pid, *self.tm_pids)

    @property
    def marker(self) -> str:
        return f"{self.root}/conf"

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)  # atomic: readers never see half a file

    @classmethod
    def load(cls, path: Path) -> ClusterState | None:
        try:
            data = json.loads(path.read_text())
            data["tm_pids"] = tuple(data.get("tm_pids", ()))
            data["java_opts"] = {k: tuple(v) for k, v in data.get("java_opts", {}).items()}
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


def pid_alive(pid: int, marker: str) -> bool:
    """Running (not a zombie) and its command line contains `marker`: pids get reused."""
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in {"Z", "X"} and marker in cmdline


def rest_overview(rest_url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{rest_url}/overview", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    data: dict[str, Any] = response.json()
    return data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_process(command: Sequence[str], env: Mapping[str, str], out_file: Path, cwd: Path) -> int:
    """Start a JVM detached from our session so it outlives gitflink; stdout goes to a file."""
    with out_file.open("ab") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    _CHILDREN[process.pid] = process
    _await_exec(process)
    return process.pid


def _await_exec(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Popen returns once the child's exec has begun, before the kernel has published the new
    program's arguments: for that moment /proc/<pid>/cmdline reads empty and the pid looks like
    another program's (`pid_alive` says no, on a loaded machine long enough to fail a start).
    Wait until they show, or the child has ended."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{process.pid}/cmdline").read_bytes():
                return
        time.sleep(0.001)


def stop_pids(pids: Sequence[int], marker: str, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after `timeout`; only pids whose command line carries `marker`."""
    alive = [pid for pid in pids if pid_alive(pid, marker)]
    for pid in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive and time.monotonic() < deadline:
        time.sleep(POLL)
        alive = [pid for pid in alive if pid_alive(pid, marker)]
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if pid_alive(pid, marker)]
    if alive:
        raise ClusterError(f"processes {alive} did not exit after SIGKILL")


class PortTaken(ClusterError):
    """A JVM could not bind the port chosen for it: something else took it in between."""


_BIND_FAILURES = ("BindException", "Address already in use")


def wait_ready(state: ClusterState, log_dir: Path, timeout: float = READY_TIMEOUT) -> None:
    """Until REST answers and every TaskManager has registered; fail fast if a JVM dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [pid for pid in state.pids if not pid_alive(pid, state.marker)]
        if dead:
            tail = _log_tail(log_dir)
            error = PortTaken if any(m in tail for m in _BIND_FAILURES) else ClusterError
            ended = how_ended(dead)
            raise error(
                f"Flink process(es) {dead} of {state.namespace}/{state.name} exited during "
                f"start-up{f' ({ended})' if ended else ''}; see {log_dir}:\n{tail}"
            )
        overview = rest_overview(state.rest_url)
        if overview is not None and _registered(overview, len(state.tm_pids)):
            return
        time.sleep(POLL)
    raise ClusterError(
        f"{state.namespace}/{state.name} not ready after {timeout:.0f} s; see {log_dir}"
    )


def _registered(overview: dict[str, Any], taskmanagers: int) -> bool:
    """Every TaskManager registered and reported its slots (they arrive one after the other)."""
    counted = int(overview.get("taskmanagers", 0)) >= taskmanagers
    return counted and int(overview.get("slots-total", 0)) >= taskmanagers


def _log_tail(log_dir: Path, lines: int = 8) -> str:
    tails = []
    for path in sorted(log_dir.glob("*.out")) + sorted(log_dir.glob("*.log")):
        text = path.read_text(errors="replace").strip().splitlines()
        errors = [line for line in text if "ERROR" in line or "Exception" in line]
        # No error logged (a JVM that cannot start says "Error: ..." and exits): its last lines.
        shown = errors[-lines:] or text[-lines:]
        if shown:
            tails.append(f"{path.name}: " + "\n".join(shown))
    return "\n".join(tails)[-4000:]


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


# The JVMs this process started, until they end: holding the Popen keeps Python from reaping
# them behind our back (a dropped Popen of a running child is polled by every later Popen), so
# how each ended is ours to tell ("exit code 1", "killed by SIGKILL") when it dies before it
# could log why.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_ENDED: dict[int, str] = {}


def _reap(pid: int) -> None:
    """Collect our own exited children so they do not linger as zombies."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        code = child.returncode
        _ENDED[pid] = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def how_ended(pids: Sequence[int]) -> str:
    """'pid: how' for those of `pids` this process started and saw end ('' for none)."""
    return ", ".join(f"{pid}: {_ENDED[pid]}" for pid in pids if pid in _ENDED)
