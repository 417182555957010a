"""`gitflink agent` and `gitflink status` as processes against real repositories."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.gitrepos import Remote, run_git

from gitflink.cli import main

CANARY = "canary-agent-7d1e"
INVALID = (
    "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: bad\n"
    "spec:\n  flinkVersion: v1_20\n  job:\n    jarURI: local:///x.jar\n    upgradeMode: savepiont\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_agent(remote: Remote, tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "GITFLINK_GIT_TOKEN": CANARY,
        "GITFLINK_WEBHOOK_SECRET": "hook",
        "GITFLINK_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "gitflink", "agent", "--repo", remote.url]
    command += ["--cache-dir", str(tmp_path / "cache"), "--listen", f"127.0.0.1:{port}"]
    command += ["--interval", "60"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def status_file(remote: Remote) -> str:
    try:
        return run_git(
            remote.bare, "show", "gitflink/status:status/default/flinkdeployment/bad.yaml"
        )
    except subprocess.CalledProcessError:
        return ""


def test_pushed_invalid_manifest_becomes_a_status_commit_and_sigterm_exits_cleanly(
    tmp_path: Path, capsys: object
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"README.md": "manifests live in apps/\n"})
    remote.push()
    port = free_port()
    agent = start_agent(remote, tmp_path, port)
    try:
        wait_until(lambda: _healthy(port))
        sha = remote.commit({"apps/bad.yaml": INVALID}, "add a broken app")
        remote.push()
        reply = httpx.post(f"http://127.0.0.1:{port}/hooks/git", headers={"X-Gitlab-Token": "hook"})
        assert reply.status_code == 202
        wait_until(lambda: "savepiont" in status_file(remote))
        subject = run_git(remote.bare, "log", "-1", "--format=%s", "gitflink/status")
        assert subject == f"gitflink: default/bad invalid @ {sha[:7]}"
        body = run_git(remote.bare, "log", "-1", "--format=%B", "gitflink/status")
        assert f"Gitflink-Revision: {sha}" in body
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        # The agent's passes measure through its registry: stages, the Git fetch, states.
        assert 'gitflink_pass_stage_duration_seconds_count{stage="parse"}' in metrics
        assert "gitflink_git_fetch_duration_seconds_count" in metrics
        assert 'gitflink_resources{state="FAILED"}' in metrics
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=30)
    assert agent.returncode == 0
    assert "agent stopping" in output
    assert CANARY not in output

    code = main(["status", "--repo", remote.url, "--cache-dir", str(tmp_path / "c2"), "-o", "json"])
    assert code == 0
    shown = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert "savepiont" in shown["FlinkDeployment/default/bad"]["error"]


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def test_status_table_lists_resources(tmp_path: Path, capsys: object) -> None:
    from gitflink.adapters.status_git import GitStatusStore
    from gitflink.model.ids import Kind, ResourceId
    from gitflink.model.status import JobStatus, LifecycleState, ResourceStatus

    bare = tmp_path / "r.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    store = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "w")
    status = ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        job_status=JobStatus(state="RUNNING"),
        applied_revision="abcdef1234",
    )
    store.save(ResourceId(Kind.FLINK_DEPLOYMENT, "prod", "orders"), status, "deployed")
    store.flush()
    assert main(["status", "--repo", bare.as_uri(), "--cache-dir", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()  # type: ignore[attr-defined]
    assert lines[0].split() == [
        "NAME",
        "KIND",
        "READY",
        "REASON",
        "LIFECYCLE",
        "JOB",
        "APPLIED",
        "AGE",
        "MESSAGE",
    ]
    assert lines[1].split()[:7] == [
        "prod/orders",
        "FlinkDeployment",
        "Unknown",
        "-",
        "STABLE",
        "RUNNING",
        "abcdef1",
    ]
