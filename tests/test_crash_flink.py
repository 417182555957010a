"""SIGKILL in the middle of a real savepoint upgrade (Flink 1.20 and 2.3): the next pass finishes it
from the same savepoint, with exactly one job running and no second savepoint."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from flink_fixtures import TESTED_VERSIONS, wait_for
from sync_flink_support import app_manifest, counter_gauge, local_runtime, wait_counting, yaml_bytes

from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import Kind, ResourceId
from gitflink.ports import Ports
from gitflink.runtime.context import job_id_for
from gitflink.runtime.reconciler import run_pass
from gitflink.wiring import RestClients

pytestmark = [pytest.mark.flink, pytest.mark.slow]
__all__ = ["local_runtime"]  # a fixture, imported for pytest to find
HELPER = Path(__file__).with_name("crash_pass.py")


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def _write(repo: Path, version: str, name: str, **changes: object) -> None:
    manifest = app_manifest(version, name, **changes)  # type: ignore[arg-type]
    (repo / f"{name}.yaml").write_bytes(yaml_bytes(manifest))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"{name}: {changes}")


@pytest.mark.parametrize("version", TESTED_VERSIONS)
@pytest.mark.parametrize(
    ("crash_at", "name"),
    [
        ("taken, job", "crash-after-savepoint"),  # savepoint done, status does not know it yet
        ("submitting generation", "crash-before-submit"),  # old job stopped, new not submitted
    ],
)
def test_upgrade_killed_midway_is_finished_by_the_next_pass_from_the_same_savepoint(
    crash_at: str, name: str, version: str, local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    name = f"{name}-{version.replace('_', '-')}"
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", name)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _write(repo, version, name)
    store = FileStatusStore(tmp_path / "status")
    ports = Ports(LocalRepository(repo), local_runtime, RestClients(), store, SystemClock())
    assert run_pass(ports).ok
    old = job_id_for(rid, 1)
    handle = local_runtime.find_cluster(rid)
    assert handle is not None
    api = ports.flink(handle.rest_url)
    wait_counting(api, old, 5)

    _write(repo, version, name, parallelism=3, rate=150)
    command = [sys.executable, str(HELPER), str(tmp_path / "status"), str(local_runtime.data_dir)]
    killed = subprocess.run(
        [*command, str(repo), crash_at], check=False, capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    interrupted = store.load(rid)
    assert interrupted is not None and interrupted.pending is not None
    assert wait_for(lambda: api.job_details(old).state == "FINISHED", 30.0, "old job stopped")
    savepoint = api.checkpoints(old).latest_savepoint
    assert savepoint is not None
    if crash_at == "taken, job":
        assert interrupted.job_status.upgrade_savepoint_path is None

    result = run_pass(ports)
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    running = [j.job_id for j in api.list_jobs() if j.state == "RUNNING"]
    assert running == [job_id_for(rid, 2)]
    assert api.checkpoints(running[0]).restored == savepoint
    savepoints = (
        Path(handle.savepoint_dir.removeprefix("file://")) if handle.savepoint_dir else None
    )
    assert savepoints is not None
    assert len([p for p in savepoints.iterdir() if p.name.startswith(f"savepoint-{old[:6]}")]) == 1
    start = wait_for(lambda: counter_gauge(api, running[0], "startCount", low=True), 60.0, "start")
    assert start > 1
    status = store.load(rid)
    assert status is not None and status.pending is None and status.error is None
    local_runtime.delete_cluster(rid)
