"""Savepoint-upgrade wall time through gitflink (a whole pass) next to the same REST sequence done
directly (the floor), on the same real Flink 1.20 cluster in the same run. Budget: <= 0.5 s over.

The floor: stop-with-savepoint, poll it, wait for FINISHED, upload the jar, run from the
savepoint, wait until every vertex RUNNING and the restored path is reported (polling at 50 ms).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from benchmarks import memory_source
from gitflink.adapters.flink_rest import FlinkRest
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.flink import OperationState, RunRequest
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkVersion
from gitflink.ports import Ports
from gitflink.runtime.reconciler import run_pass
from gitflink.settings import Settings
from gitflink.wiring import RestClients

BUDGET_SECONDS = 0.5
ROUNDS = 3
JAR = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"
RESOURCE = ResourceId(Kind.FLINK_DEPLOYMENT, "bench", "upgrade")
T = TypeVar("T")


class MemorySource(memory_source.MemorySource):
    """One manifest; each `commit` is a new revision."""

    def commit(self, parallelism: int, rate: int) -> None:
        self.commit_files({"bench/upgrade.yaml": json.dumps(_manifest(parallelism, rate)).encode()})


def _args(rate: int) -> list[str]:
    return ["--rate", str(rate), "--keys", "16"]


def _manifest(parallelism: int, rate: int) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": RESOURCE.name, "namespace": RESOURCE.namespace},
        "spec": {
            "flinkVersion": "v1_20",
            "jobManager": {"resource": {"memory": "1g"}},
            "taskManager": {"resource": {"memory": "1g"}},
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": 4,
                "state.checkpoints.dir": "file:///unused/checkpoints",
                "state.savepoints.dir": "file:///unused/savepoints",
            },
            "job": {
                "jarURI": JAR,
                "entryClass": "gitflink.testjob.CounterJob",
                "args": _args(rate),
                "parallelism": parallelism,
                "upgradeMode": "savepoint",
            },
        },
    }


def _poll(check: Callable[[], T | None], timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value is not None:
            return value
        time.sleep(0.05)
    raise TimeoutError("benchmark step did not finish")


def _floor_upgrade(api: FlinkRest, runtime: LocalRuntime, job_id: str, rate: int, p: int) -> str:
    """The minimum REST sequence for a savepoint upgrade; returns the new job id."""
    trigger = api.stop_with_savepoint(job_id, None)
    operation = _poll(
        lambda: (
            o
            if (o := api.savepoint_status(job_id, trigger)).state is not OperationState.IN_PROGRESS
            else None
        )
    )
    assert operation.location, operation.failure
    _poll(lambda: True if api.job_details(job_id).state == "FINISHED" else None)
    jar_id = api.upload_jar(runtime.resolve_jar(JAR, flink_version=FlinkVersion.V1_20))
    request = RunRequest(
        entry_class="gitflink.testjob.CounterJob",
        args=tuple(_args(rate)),
        parallelism=p,
        job_id=uuid.uuid4().hex,
        savepoint_path=operation.location,
    )
    new = api.run_jar(jar_id, request)
    api.delete_jar(jar_id)
    _poll(lambda: True if api.job_details(new).all_vertices_running else None)
    _poll(lambda: api.checkpoints(new).restored)
    return new


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="gitflink-bench-") as tmp:
        data = Path(tmp)
        runtime = LocalRuntime(data, Settings.from_env().cache_dir, ready_timeout=120.0)
        source = MemorySource()
        store = FileStatusStore(data)
        ports = Ports(source, runtime, RestClients(), store, SystemClock())
        try:
            return _measure(ports, source, runtime, store)
        finally:
            runtime.delete_cluster(RESOURCE)


def _measure(
    ports: Ports, source: MemorySource, runtime: LocalRuntime, store: FileStatusStore
) -> bool:
    source.commit(2, 100)
    assert run_pass(ports).ok, "deploy failed"
    through_gitflink: list[float] = []
    for round_ in range(ROUNDS):
        source.commit(3 if round_ % 2 == 0 else 2, 110 + round_)
        started = time.perf_counter()
        result = run_pass(ports)
        through_gitflink.append(time.perf_counter() - started)
        assert result.ok, [e.error for e in result.executions]
    handle = runtime.find_cluster(RESOURCE)
    status = store.load(RESOURCE)
    assert handle is not None and status is not None and status.job_status.job_id
    api = FlinkRest(handle.rest_url)
    job_id = status.job_status.job_id
    direct: list[float] = []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        job_id = _floor_upgrade(api, runtime, job_id, 120 + round_, 3 if round_ % 2 else 2)
        direct.append(time.perf_counter() - started)
    api.close()
    ours, floor = statistics.median(through_gitflink), statistics.median(direct)
    print(
        f"savepoint upgrade through gitflink (whole pass): median {ours:.2f} s "
        f"{[round(t, 2) for t in through_gitflink]}"
    )
    print(
        f"same REST sequence done directly (floor):      median {floor:.2f} s "
        f"{[round(t, 2) for t in direct]}"
    )
    print(f"overhead {ours - floor:+.2f} s, ratio {ours / floor:.2f}x (budget +{BUDGET_SECONDS} s)")
    return ours - floor <= BUDGET_SECONDS
