"""Real-Flink passes for tests: an in-memory Git source, real local clusters, status files.

Every JVM started is stopped by pid in the fixture's finalizer, also when a test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.core.planning.removal import PruneGuard
from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus
from gitflink.ports import FlinkApi, Ports, StatusStore
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.settings import Settings
from gitflink.wiring import RestClients
from support.fakes import FakeGitSource
from support.flink_fixtures import ADAPTIVE, stop_everything, wait_for

JAR = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"


@pytest.fixture(scope="module")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    data_dir = tmp_path_factory.mktemp("sync-flink")
    runtime = LocalRuntime(data_dir, Settings.from_env().cache_dir, ready_timeout=120.0)
    try:
        yield runtime
    finally:
        stop_everything(data_dir)


def app_manifest(
    version: str,
    name: str,
    *,
    parallelism: int = 2,
    rate: int = 100,
    mode: str = "savepoint",
    state: str = "running",
    namespace: str = "it",
    **job: Any,
) -> dict[str, Any]:
    conf = {
        "taskmanager.numberOfTaskSlots": 4,
        "state.checkpoints.dir": "file:///unused/checkpoints",
        "state.savepoints.dir": "file:///unused/savepoints",
        "jobmanager.scheduler": "adaptive",
        **ADAPTIVE[version],
    }
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "flinkVersion": version,
            # Standalone, as the local runtime runs it: only there is job.parallelism SCALE.
            "mode": "standalone",
            "jobManager": {"resource": {"memory": "1g"}},
            "taskManager": {"resource": {"memory": "1g"}},
            "flinkConfiguration": conf,
            "job": {
                "jarURI": JAR,
                "entryClass": "gitflink.testjob.CounterJob",
                "args": ["--rate", str(rate), "--keys", "16", "--checkpoint-interval", "1000"],
                "parallelism": parallelism,
                "upgradeMode": mode,
                "state": state,
                **job,
            },
        },
    }


def yaml_bytes(*documents: dict[str, Any]) -> bytes:
    import json

    # JSON is YAML: no serializer needed, and the parser sees exactly these values.
    return "\n---\n".join(json.dumps(d) for d in documents).encode()


@dataclass
class FlinkWorld:
    source: FakeGitSource
    ports: Ports
    store: StatusStore

    def commit(self, files: dict[str, bytes]) -> None:
        self.source.commit(files)

    def sync(self, *, allow_mass_prune: bool = False) -> PassResult:
        guard = PruneGuard(allowed=allow_mass_prune)
        result = run_pass(self.ports, PassConfig(max_workers=2, prune_guard=guard))
        assert result.error is None, result.error
        assert not [p for p in result.problems if p.is_error], result.problems
        for execution in result.executions:
            assert execution.ok, (str(execution.resource), execution.error)
        return result

    def status(self, resource: ResourceId) -> ResourceStatus:
        status = self.store.load(resource)
        assert status is not None, resource
        return status

    def api(self, resource: ResourceId) -> FlinkApi:
        handle = self.ports.runtime.find_cluster(resource)
        assert handle is not None, resource
        return self.ports.flink(handle.rest_url)

    def running_jobs(self, resource: ResourceId) -> list[str]:
        if self.ports.runtime.find_cluster(resource) is None:
            return []
        return [j.job_id for j in self.api(resource).list_jobs() if j.state == "RUNNING"]


def flink_world(runtime: LocalRuntime, tmp_path: Path, files: dict[str, bytes]) -> FlinkWorld:
    source = FakeGitSource(files)
    store = FileStatusStore(tmp_path)
    ports = Ports(source, runtime, RestClients(), store, SystemClock())
    return FlinkWorld(source, ports, store)


def counter_gauge(api: FlinkApi, job_id: str, name: str, *, low: bool = False) -> float | None:
    """A gauge of the CounterJob's counter operator over all subtasks (max, or min)."""
    counter = next(v for v in api.job_details(job_id).vertices if v.name.startswith("counter"))
    metrics = api.vertex_metrics(job_id, counter.vertex_id, [f"counter.{name}"])
    if not metrics:
        return None
    return metrics[0].min if low else metrics[0].max


def sources_all_emitting(api: FlinkApi, job_id: str) -> float | None:
    """The fewest records any source subtask has sent, once every one has sent some."""
    source = next(v for v in api.job_details(job_id).vertices if v.name.startswith("Source"))
    metrics = api.vertex_metrics(job_id, source.vertex_id, ["numRecordsOut"])
    return metrics[0].min if metrics and metrics[0].min > 0 else None


def wait_counting(api: FlinkApi, job_id: str, at_least: float) -> float:
    return wait_for(
        lambda: v if (v := counter_gauge(api, job_id, "maxCount")) and v >= at_least else None,
        60.0,
        f"job {job_id} counting to {at_least}",
    )


def wait_checkpoint(api: FlinkApi, job_id: str) -> str:
    return wait_for(lambda: api.checkpoints(job_id).latest_completed, 60.0, "a checkpoint")
