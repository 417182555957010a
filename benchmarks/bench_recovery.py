"""Recovery of a lost cluster (every JVM killed) through a gitflink pass, next to a plain cluster
start of the same spec (a first deploy, empty state) in the same run, on real Flink 1.20.

The recovery does what the start does plus finding the retained checkpoint, restoring it and
verifying the restored path; budget: at most 1.5x the plain start.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.memory_source import MemorySource
from gitflink.adapters.local_runtime import LocalRuntime, cluster
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassConfig, run_pass
from gitflink.settings import Settings
from gitflink.wiring import RestClients

BUDGET_RATIO = 1.5
ROUNDS = 2
JAR = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"


class Manifests(MemorySource):
    """The manifests named; each `commit` is a new revision."""

    def commit(self, names: Sequence[str]) -> None:
        self.commit_files({f"bench/{n}.yaml": json.dumps(_manifest(n)).encode() for n in names})


def _manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {
            "flinkVersion": "v1_20",
            "mode": "standalone",
            "jobManager": {"resource": {"memory": "1g"}},
            "taskManager": {"resource": {"memory": "1g"}},
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": 2,
                "state.checkpoints.dir": "file:///unused/checkpoints",
                "state.savepoints.dir": "file:///unused/savepoints",
            },
            "job": {
                "jarURI": JAR,
                "entryClass": "gitflink.testjob.CounterJob",
                "args": ["--rate", "200", "--checkpoint-interval", "500"],
                "parallelism": 2,
                "upgradeMode": "last-state",
            },
        },
    }


def _timed_pass(ports: Ports, action: Action) -> float:
    started = time.perf_counter()
    result = run_pass(ports, PassConfig(stable_after=0.0))
    elapsed = time.perf_counter() - started
    assert result.ok, [e.error for e in result.executions]
    assert result.plan is not None and any(j.action is action for j in result.plan.jobs)
    return elapsed


def _kill_all(runtime: LocalRuntime, resource: ResourceId, store: FileStatusStore) -> None:
    status = store.load(resource)
    assert status is not None and status.job_status.job_id
    deadline = time.monotonic() + 60
    while runtime.latest_checkpoint(resource, status.job_status.job_id) is None:
        assert time.monotonic() < deadline, "no checkpoint to recover from"
        time.sleep(0.2)
    handle = runtime.find_cluster(resource)
    assert handle is not None
    for pid in handle.pids:
        os.kill(pid, signal.SIGKILL)
    while any(cluster.pid_alive(pid, "") for pid in handle.pids):
        time.sleep(0.05)


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="gitflink-bench-") as tmp:
        data = Path(tmp)
        runtime = LocalRuntime(data, Settings.from_env().cache_dir, ready_timeout=120.0)
        source = Manifests()
        store = FileStatusStore(data)
        ports = Ports(source, runtime, RestClients(), store, SystemClock())
        try:
            return _measure(ports, source, runtime, store)
        finally:
            for handle in runtime.list_clusters():
                runtime.delete_cluster(handle.resource)


def _measure(
    ports: Ports, source: Manifests, runtime: LocalRuntime, store: FileStatusStore
) -> bool:
    names: list[str] = []
    starts: list[float] = []
    recoveries: list[float] = []
    for round_ in range(ROUNDS):
        names.append(f"job-{round_}")
        source.commit(names)
        starts.append(_timed_pass(ports, Action.DEPLOY))
        resource = ResourceId(Kind.FLINK_DEPLOYMENT, "bench", names[-1])
        _kill_all(runtime, resource, store)
        recoveries.append(_timed_pass(ports, Action.RECOVER))
    start, recovery = statistics.median(starts), statistics.median(recoveries)
    print(f"plain cluster start + deploy (baseline):  median {start:.2f} s {_rounded(starts)}")
    print(
        f"recovery of a killed cluster (checkpoint): median {recovery:.2f} s {_rounded(recoveries)}"
    )
    print(f"ratio {recovery / start:.2f}x the plain start (budget {BUDGET_RATIO}x)")
    return recovery / start <= BUDGET_RATIO


def _rounded(times: list[float]) -> list[float]:
    return [round(t, 2) for t in times]
