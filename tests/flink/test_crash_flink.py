"""SIGKILL in the middle of a real savepoint upgrade (Flink 1.20 and 2.3): the next pass finishes it
from the same savepoint, with exactly one job running and no second savepoint."""

from __future__ import annotations

import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from support.flink_fixtures import TESTED_VERSIONS, wait_for
from support.sync_flink_support import (
    app_manifest,
    counter_gauge,
    local_runtime,
    wait_counting,
    yaml_bytes,
)

from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.ports import FlinkApi, Ports
from gitflink.runtime.reconciler import run_pass
from gitflink.wiring import RestClients

pytestmark = [pytest.mark.flink, pytest.mark.slow]
__all__ = ["local_runtime"]  # a fixture, imported for pytest to find
HELPER = Path(__file__).parents[1] / "support" / "crash_pass.py"


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def _finished(api: FlinkApi, job_id: str) -> bool:
    return api.job_details(job_id).state == "FINISHED"


def _write(repo: Path, version: str, name: str, **changes: object) -> None:
    manifest = app_manifest(version, name, **changes)  # type: ignore[arg-type]
    (repo / f"{name}.yaml").write_bytes(yaml_bytes(manifest))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"{name}: {changes}")


# Two write-ahead points, one after the other on the same cluster (a cluster start saved).
CRASHES = (
    ("taken, job", {"parallelism": 3, "rate": 150}),  # savepoint done, status does not know it
    ("submitting generation", {"parallelism": 3, "rate": 120}),  # old job stopped, new not run
)


@pytest.mark.parametrize("version", TESTED_VERSIONS)
def test_upgrade_killed_midway_is_finished_by_the_next_pass_from_the_same_savepoint(
    version: str, local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    name = f"crash-{version.replace('_', '-')}"
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", name)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _write(repo, version, name)
    store = FileStatusStore(tmp_path / "status")
    ports = Ports(LocalRepository(repo), local_runtime, RestClients(), store, SystemClock())
    assert run_pass(ports).ok
    handle = local_runtime.find_cluster(rid)
    assert handle is not None
    api = ports.flink(handle.rest_url)
    command = [sys.executable, str(HELPER), str(tmp_path / "status"), str(local_runtime.data_dir)]
    savepoints = Path((handle.savepoint_dir or "").removeprefix("file://"))

    for generation, (crash_at, changes) in enumerate(CRASHES, start=2):
        old = job_id_for(rid, generation - 1)
        wait_counting(api, old, 5)
        _write(repo, version, name, **changes)
        killed = subprocess.run(
            [*command, str(repo), crash_at], check=False, capture_output=True, text=True
        )
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

        interrupted = store.load(rid)
        assert interrupted is not None and interrupted.pending is not None, crash_at
        assert wait_for(partial(_finished, api, old), 30.0, "old job stopped")
        savepoint = api.checkpoints(old).latest_savepoint
        assert savepoint is not None
        if crash_at == "taken, job":
            assert interrupted.job_status.upgrade_savepoint_path is None

        result = run_pass(ports)
        assert result.ok, [(str(e.resource), e.error) for e in result.executions]
        running = [j.job_id for j in api.list_jobs() if j.state == "RUNNING"]
        assert running == [job_id_for(rid, generation)], crash_at
        assert api.checkpoints(running[0]).restored == savepoint
        taken = [p for p in savepoints.iterdir() if p.name.startswith(f"savepoint-{old[:6]}")]
        assert len(taken) == 1, (crash_at, taken)
        start = wait_for(partial(counter_gauge, api, running[0], "startCount", low=True), 60.0)
        assert start > 1, crash_at
        status = store.load(rid)
        assert status is not None and status.pending is None and status.error is None
    local_runtime.delete_cluster(rid)
