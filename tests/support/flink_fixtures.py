"""Real Flink for tests: one LocalRuntime per session, one shared cluster per Flink version.

Every process the runtime started is stopped by pid in a finalizer, also when tests fail.
Installs are cached under the cache dir (GITFLINK_CACHE_DIR, default ~/.cache/gitflink).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gitflink.adapters.flink_rest import FlinkRest
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.local_runtime.cluster import ClusterState, stop_pids
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.ports import ClusterHandle
from gitflink.settings import Settings

TESTED_VERSIONS = ("v1_20", "v2_3")
EXAMPLE_JAR_URI = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"
T = TypeVar("T")

# Rescale quickly on the adaptive scheduler; the keys differ between 1.x and 2.x.
ADAPTIVE = {
    "v1_20": {
        "jobmanager.adaptive-scheduler.scaling-interval.min": "1s",
        "jobmanager.adaptive-scheduler.resource-stabilization-timeout": "1s",
    },
    "v2_3": {
        "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "0s",
        "jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "0s",
        "jobmanager.adaptive-scheduler.rescale-trigger.max-delay": "0s",
    },
}


def deployment_spec(version: str, **config: Any) -> FlinkDeploymentSpec:
    return FlinkDeploymentSpec.model_validate(
        {
            "flinkVersion": version,
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": 4,
                "jobmanager.scheduler": "adaptive",
                **ADAPTIVE[version],
                **config,
            },
            "job": {"jarURI": EXAMPLE_JAR_URI, "parallelism": 2},
        }
    )


def wait_for(check: Callable[[], T | None], timeout: float = 30.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; the test fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: {last!r}")


def stop_everything(data_dir: Path) -> None:
    """Stop every recorded pid (by pid and command-line marker), whatever state tests left."""
    for path in (data_dir / "clusters").glob("*/*/cluster.json"):
        state = ClusterState.load(path)
        if state is not None:
            stop_pids(state.pids, state.marker)


@pytest.fixture(scope="session")
def flink_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    data_dir = tmp_path_factory.mktemp("gitflink-data")
    runtime = LocalRuntime(data_dir, Settings.from_env().cache_dir, ready_timeout=120.0)
    try:
        yield runtime
    finally:
        stop_everything(data_dir)


@dataclass
class SharedCluster:
    version: str
    resource: ResourceId
    spec: FlinkDeploymentSpec
    handle: ClusterHandle
    api: FlinkRest
    jar_id: str


@pytest.fixture(scope="session", params=TESTED_VERSIONS, name="cluster")
def flink_cluster(
    request: pytest.FixtureRequest, flink_runtime: LocalRuntime
) -> Iterator[SharedCluster]:
    version: str = request.param
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "test", f"shared-{version.replace('_', '-')}")
    spec = deployment_spec(version)
    handle = flink_runtime.ensure_cluster(resource, spec)
    api = FlinkRest(handle.rest_url)
    jar = flink_runtime.resolve_jar(EXAMPLE_JAR_URI, flink_version=spec.flink_version)
    try:
        yield SharedCluster(version, resource, spec, handle, api, api.upload_jar(jar))
    finally:
        api.close()
        flink_runtime.delete_cluster(resource)
