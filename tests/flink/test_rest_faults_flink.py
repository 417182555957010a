"""Flink's REST API black-holed or slow in the middle of a savepoint upgrade (real Flink 1.20,
a loopback proxy between gitflink and the JobManager): the step fails after the REST timeout,
the status says why within 15 s, nothing is stopped without its savepoint being completed and
then recorded, and the next pass finishes the upgrade from that one savepoint. The same for a
stop-with-savepoint that Flink itself reports failed: Flink repeats a failed trigger id's
failure, so every attempt posts one of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from k8s_testbed.fault_proxy import Fault, FaultProxy
from support.flink_fixtures import wait_for
from support.sync_flink_support import (
    FlinkWorld,
    app_manifest,
    flink_world,
    local_runtime,
    wait_counting,
    yaml_bytes,
)

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.ports import FlinkApi, Ports
from gitflink.runtime.context import same_path
from gitflink.runtime.flinkjobs import SNAPSHOT_ATTEMPTS
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.wiring import RestClients

pytestmark = [pytest.mark.flink, pytest.mark.slow]
__all__ = ["local_runtime"]  # a fixture, imported for pytest to find
VERSION = "v1_20"
APP = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "rest-faults")
REST_TIMEOUT = 3.0  # GITFLINK_FLINK_REST_TIMEOUT
SAY_WHY = 15.0  # seconds from the fault to a status that says why


def _files(rate: int) -> dict[str, bytes]:
    return {"app.yaml": yaml_bytes(app_manifest(VERSION, APP.name, rate=rate))}


@pytest.fixture(scope="module")
def proxied(
    local_runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FlinkWorld, Ports, FaultProxy]]:
    world = flink_world(local_runtime, tmp_path_factory.mktemp("rest-faults"), _files(100))
    world.sync()
    handle = local_runtime.find_cluster(APP)
    assert handle is not None
    proxy = FaultProxy(handle.rest_url).start()
    clients = RestClients(timeout=REST_TIMEOUT)

    def through_proxy(url: str) -> FlinkApi:
        return clients(proxy.url if url == handle.rest_url else url)

    ports = Ports(world.source, local_runtime, through_proxy, world.store, SystemClock())
    try:
        yield world, ports, proxy
    finally:
        proxy.stop()
        clients.close()
        local_runtime.delete_cluster(APP)


def _upgrade_under(fault: Fault, world: FlinkWorld, ports: Ports, proxy: FaultProxy) -> str:
    """Commit an upgrade and run its pass with `fault` injected; the error the status shows."""
    api = world.api(APP)
    old = world.status(APP).job_status.job_id
    assert old is not None
    wait_counting(api, old, 5)
    world.commit(_files(world.status(APP).job_status.generation + 200))
    proxy.inject(fault)
    done: list[PassResult] = []
    thread = threading.Thread(target=lambda: done.append(run_pass(ports, PassConfig())))
    thread.start()
    error = wait_for(partial(_error, world), SAY_WHY, "the status to say why the step failed")
    thread.join(60)
    assert done and not done[0].ok
    proxy.clear()
    return error


def _error(world: FlinkWorld) -> str | None:
    status = world.store.load(APP)
    return status.error if status is not None else None


def _finished_from_one_savepoint(world: FlinkWorld, ports: Ports, old: str) -> None:
    result = run_pass(ports, PassConfig())
    assert result.ok, [(str(e.resource), e.error) for e in result.executions]
    status = world.status(APP)
    new = status.job_status.job_id
    assert world.running_jobs(APP) == [new] == [job_id_for(APP, status.job_status.generation)]
    savepoint = status.job_status.last_savepoint
    assert savepoint is not None and savepoint.job_id == old
    assert same_path(world.api(APP).checkpoints(new).restored, savepoint.path)
    taken = _savepoint_dir(ports).glob(f"savepoint-{old[:6]}*")
    assert len(list(taken)) == 1


def _savepoint_dir(ports: Ports) -> Path:
    """Where the local runtime's cluster keeps its savepoints (a file:// URI in its handle)."""
    handle = ports.runtime.find_cluster(APP)
    assert handle is not None and handle.savepoint_dir
    return Path(handle.savepoint_dir.removeprefix("file://"))


def test_a_black_holed_stop_fails_the_step_and_stops_nothing(
    proxied: tuple[FlinkWorld, Ports, FaultProxy],
) -> None:
    world, ports, proxy = proxied
    old = world.status(APP).job_status.job_id
    assert old is not None
    error = _upgrade_under(
        Fault("POST", r"/stop$", black_hole=True, times=None), world, ports, proxy
    )
    assert "timed out" in error, error
    status = world.status(APP)
    assert status.pending is not None and status.job_status.upgrade_savepoint_path is None
    assert world.running_jobs(APP) == [old], "a job stopped without a recorded savepoint"
    _finished_from_one_savepoint(world, ports, old)


def test_a_slow_savepoint_poll_fails_the_step_and_the_next_pass_records_the_savepoint(
    proxied: tuple[FlinkWorld, Ports, FaultProxy],
) -> None:
    world, ports, proxy = proxied
    old = world.status(APP).job_status.job_id
    assert old is not None
    slow = Fault("GET", r"/savepoints/", delay=3 * REST_TIMEOUT, times=None)
    error = _upgrade_under(slow, world, ports, proxy)
    assert "timed out" in error, error
    # Flink stopped the job once its savepoint completed; the status, which could not learn it,
    # holds the change in flight: the next pass asks Flink for that trigger and records it.
    assert world.status(APP).pending is not None
    assert world.running_jobs(APP) == []
    _finished_from_one_savepoint(world, ports, old)


def test_a_failed_stop_is_counted_and_the_next_pass_posts_a_trigger_of_its_own(
    proxied: tuple[FlinkWorld, Ports, FaultProxy],
) -> None:
    world, ports, _ = proxied
    old = world.status(APP).job_status.job_id
    assert old is not None
    wait_counting(world.api(APP), old, 5)
    # A file where Flink creates each savepoint's directory: every stop fails, the job runs on.
    savepoints = _savepoint_dir(ports)
    aside = savepoints.with_name("savepoints-aside")
    savepoints.rename(aside)
    savepoints.write_text("not a directory")
    try:
        world.commit(_files(world.status(APP).job_status.generation + 300))
        failed = run_pass(ports, PassConfig())
    finally:
        savepoints.unlink()
        aside.rename(savepoints)
    assert not failed.ok
    status = world.status(APP)
    assert "savepoint of job" in (status.error or "") and str(savepoints) in status.error
    assert status.job_status.failed_stops == SNAPSHOT_ATTEMPTS
    assert status.job_status.upgrade_savepoint_path is None
    assert world.running_jobs(APP) == [old]
    # A failed savepoint stalls the change until the spec changes (docs/guardrails.md): the
    # storage fixed, a new spec retries it under a trigger id of its own (re-posting any of the
    # failed ones would get its failure back for minutes).
    world.commit(_files(world.status(APP).job_status.generation + 400))
    _finished_from_one_savepoint(world, ports, old)
