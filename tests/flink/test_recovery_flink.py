"""Self-healing on real Flink: processes killed with SIGKILL, jobs that fail, jobs cancelled and
rescaled through the REST API; each case ends with one job running per resource, its state
restored (docs/recovery.md)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.flink_fixtures import TESTED_VERSIONS, stop_everything, wait_for
from support.sync_flink_support import (
    FlinkWorld,
    app_manifest,
    counter_gauge,
    flink_world,
    wait_checkpoint,
    wait_counting,
    yaml_bytes,
)

from gitflink.adapters.local_runtime import LocalRuntime, cluster
from gitflink.cli import main
from gitflink.core.planning import Healing
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action, AwaitJob, StartCluster
from gitflink.model.status import LifecycleState
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.runtime.settling import Settled
from gitflink.settings import Settings

pytestmark = [pytest.mark.flink, pytest.mark.slow]
# TaskManager loss is noticed in seconds, not the default 50 s heartbeat timeout.
FAST_HEARTBEAT = {"heartbeat.interval": "1000", "heartbeat.timeout": "5000"}


def manifest(version: str, name: str, **changes: Any) -> bytes:
    conf = changes.pop("conf", {})
    doc = app_manifest(version, name, **changes)
    doc["spec"]["flinkConfiguration"].update({**FAST_HEARTBEAT, **conf})
    return yaml_bytes(doc)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[FlinkWorld]:
    """Clusters and status files in one data dir of the test's own, as `gitflink sync` keeps
    them; every JVM is stopped by pid afterwards."""
    runtime = LocalRuntime(tmp_path, Settings.from_env().cache_dir, ready_timeout=120.0)
    try:
        yield flink_world(runtime, tmp_path, {})
    finally:
        stop_everything(tmp_path)


def sync(world: FlinkWorld, **healing: Any) -> PassResult:
    """One pass. Each case here is its own incident, not a crash loop: no backoff unless a
    test asks for one."""
    healing.setdefault("backoff_first", 0.0)
    config = PassConfig(max_workers=2, healing=Healing(**healing), stable_after=0.0)
    result = run_pass(world.ports, config)
    assert result.error is None, result.error
    return result


def plan_of(result: PassResult, resource: ResourceId) -> Any:
    assert result.plan is not None
    found = result.plan.for_resource(resource)
    assert found is not None
    return found


def cli(*argv: str) -> tuple[int, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, json.loads(out.getvalue() or "null")


def kill(pids: tuple[int, ...]) -> None:
    """SIGKILL, as an OOM kill or a host reboot would; returns once each process is gone."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        wait_for(lambda pid=pid: not cluster.pid_alive(pid, ""), 10.0, f"pid {pid} to die")


def deploy(world: FlinkWorld, version: str, name: str, **changes: Any) -> tuple[ResourceId, str]:
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "it", name)
    world.commit({f"{name}.yaml": manifest(version, name, **changes)})
    result = sync(world)
    assert result.ok, result.executions
    job_id = world.status(resource).job_status.job_id
    assert job_id is not None
    return resource, job_id


def restored_and_counting(world: FlinkWorld, resource: ResourceId, expected: str) -> str:
    """The one running job restored `expected` and its counter continued from that state."""
    [job_id] = world.running_jobs(resource)
    api = world.api(resource)
    assert api.checkpoints(job_id).restored == expected
    wait_counting(api, job_id, 1)
    # The counter continued from the restored state: its first count after the start is past 1.
    # (The highest over subtasks: a subtask's gauge appears with its first record, and on 2.3
    # one subtask was seen once at 1 on a loaded machine after three restores in a row.)
    start = counter_gauge(api, job_id, "startCount")
    assert start is not None and start > 1, "the counter started again from zero"
    return job_id


@pytest.mark.parametrize("version", TESTED_VERSIONS)
def test_a_cluster_whose_processes_are_all_killed_is_restored_from_its_checkpoint(
    world: FlinkWorld, version: str, tmp_path: Path
) -> None:
    resource, job_id = deploy(world, version, f"lost-{version[1:].replace('_', '')}")
    api = world.api(resource)
    wait_counting(api, job_id, 200)
    wait_checkpoint(api, job_id)
    handle = world.ports.runtime.find_cluster(resource)
    assert handle is not None
    kill(handle.pids)
    retained = world.ports.runtime.latest_checkpoint(resource, job_id)
    assert retained is not None
    # Health is observed: status says the job is not running, plan shows the recovery.
    shown = cli("status", resource.name, "--data-dir", str(tmp_path), "-o", "json")
    assert shown[0] == 0
    ready = next(c for c in shown[1][str(resource)]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["message"]) == ("False", "the Flink cluster is gone")
    result = sync(world)
    plan = plan_of(result, resource)
    assert plan.action is Action.RECOVER and "cluster is gone" in plan.drift
    assert result.ok, result.unhealthy
    restored_and_counting(world, resource, retained.path)


def test_losing_a_taskmanager_then_the_jobmanager_recovers_each_way(world: FlinkWorld) -> None:
    resource, job_id = deploy(world, "v1_20", "parts")
    api = world.api(resource)
    wait_checkpoint(api, job_id)
    handle = world.ports.runtime.find_cluster(resource)
    assert handle is not None
    kill(handle.pids[1:])  # the TaskManager: Flink restarts the job once slots return
    wait_for(
        lambda: not api.job_details(job_id).all_vertices_running or None,
        30.0,
        "Flink to notice the lost TaskManager",
    )
    result = sync(world)
    plan = plan_of(result, resource)
    assert plan.action is Action.RECOVER, plan
    assert [type(step) for step in plan.steps] == [StartCluster, AwaitJob]
    assert result.ok, result.unhealthy
    assert world.running_jobs(resource) == [job_id]  # the same job, not resubmitted
    wait_checkpoint(world.api(resource), job_id)
    handle = world.ports.runtime.find_cluster(resource)
    assert handle is not None
    kill(handle.pids[:1])  # the JobManager: the cluster starts again, the job from its state
    retained = world.ports.runtime.latest_checkpoint(resource, job_id)
    assert retained is not None
    result = sync(world)
    assert plan_of(result, resource).action is Action.RECOVER and result.ok
    restored_and_counting(world, resource, retained.path)


FAILING = {
    "args": ["--rate", "400", "--keys", "16", "--checkpoint-interval", "500"],
    "conf": {"restart-strategy.type": "none"},
}


def failing_args(after: int) -> list[str]:
    return [*FAILING["args"], "--fail-after-records", str(after)]


def test_a_failed_job_stays_failed_or_restarts_from_its_checkpoint_with_backoff(
    world: FlinkWorld,
) -> None:
    resource, job_id = deploy(
        world, "v1_20", "failing", args=failing_args(3000), conf=FAILING["conf"]
    )
    api = world.api(resource)
    wait_for(lambda: api.job_details(job_id).state == "FAILED" or None, 60.0, "the job to fail")
    checkpoint = api.checkpoints(job_id).latest_completed
    assert checkpoint is not None
    result = sync(world)  # restart.failed is off by default: reported, kept
    assert plan_of(result, resource).action is Action.NONE
    assert result.unhealthy[resource].verdict == "FAIL"
    assert "failing after 3000 records" in result.unhealthy[resource].reason
    assert world.status(resource).lifecycle_state is LifecycleState.FAILED
    assert world.running_jobs(resource) == []
    # With restart.failed, the job restarts from its checkpoint; it fails again (a crash
    # loop), and the next restart waits for the backoff.
    result = sync(world, restart_failed=True, backoff_first=600.0)
    assert plan_of(result, resource).action is Action.RECOVER and result.ok, result.executions
    [second] = world.running_jobs(resource)
    assert api.checkpoints(second).restored == checkpoint
    wait_for(lambda: api.job_details(second).state == "FAILED" or None, 60.0, "a second failure")
    result = sync(world, restart_failed=True, backoff_first=600.0)
    plan = plan_of(result, resource)
    assert plan.action is Action.NONE and "restart attempt 2 backs off" in " ".join(plan.notes)
    assert result.unhealthy[resource].verdict == "RECOVERING"
    recovery = world.status(resource).recovery
    assert recovery is not None and recovery.attempts == 1
    assert world.running_jobs(resource) == []


@pytest.mark.parametrize("version", TESTED_VERSIONS)
def test_a_job_rescaled_cancelled_and_stopped_through_rest_comes_back_to_git(
    world: FlinkWorld, version: str
) -> None:
    resource, job_id = deploy(world, version, f"handson-{version[1:].replace('_', '')}")
    api = world.api(resource)
    wait_checkpoint(api, job_id)
    api.set_parallelism(job_id, dict.fromkeys(api.resource_requirements(job_id), 1))
    wait_for(
        lambda: {v.parallelism for v in api.job_details(job_id).vertices} == {1} or None,
        90.0,
        "the rescale by hand",
    )
    wait_for(lambda: api.job_details(job_id).all_vertices_running or None, 60.0, "running")
    result = sync(world)
    plan = plan_of(result, resource)
    assert plan.action is Action.RECOVER and plan.drift == "job runs at parallelism 1, Git says 2"
    assert result.ok, result.executions
    assert {v.parallelism for v in api.job_details(job_id).vertices} == {2}
    checkpoint = wait_checkpoint(api, job_id)
    api.cancel(job_id)
    wait_for(lambda: api.job_details(job_id).state == "CANCELED" or None, 30.0, "the cancel")
    latest = api.checkpoints(job_id).latest_completed or checkpoint
    result = sync(world)
    assert plan_of(result, resource).action is Action.RECOVER and result.ok, result.executions
    third = restored_and_counting(world, resource, latest)
    # Stopped with a savepoint through REST: FINISHED, but not done; resumed from that savepoint.
    trigger = api.stop_with_savepoint(third, None)
    savepoint = wait_for(lambda: api.savepoint_status(third, trigger).location, 60.0, "the stop")
    wait_for(lambda: api.job_details(third).state == "FINISHED" or None, 30.0, "FINISHED")
    result = sync(world)
    plan = plan_of(result, resource)
    assert plan.action is Action.RECOVER and "stopped with a savepoint" in plan.drift
    assert result.ok, result.executions
    restored_and_counting(world, resource, savepoint)


def test_the_drift_check_finds_a_lost_cluster_within_one_interval(world: FlinkWorld) -> None:
    resource, job_id = deploy(world, "v1_20", "watched")
    api = world.api(resource)
    wait_checkpoint(api, job_id)
    interval = 3.0
    config = PassConfig(settled=Settled(drift_interval=interval), stable_after=0.0)
    assert run_pass(world.ports, config).observed  # converged: the next passes stop early
    converged_at = time.monotonic()
    handle = world.ports.runtime.find_cluster(resource)
    assert handle is not None
    kill(handle.pids)
    while True:
        started = time.monotonic() - converged_at
        result = run_pass(world.ports, config)
        if result.observed:
            break
        assert started < interval  # Git did not move: stopped after fetching until then
        time.sleep(0.2)
    assert started < interval + 0.5  # the first pass once the drift check was due
    assert plan_of(result, resource).action is Action.RECOVER and result.ok
    assert len(world.running_jobs(resource)) == 1
