"""What a pass measures, read back from the agent's Prometheus registry: time per stage, the
Git fetch and its errors, commit age when applied, resources by lifecycle state, upgrades by
mode and outcome, savepoint durations and recoveries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, app

from gitflink.agent.metrics import Metrics
from gitflink.model.errors import SourceError
from gitflink.ports import Ports, Revision
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

STAGES = ("fetch", "parse", "plan", "execute", "status")


def measured(world: FakeWorld, metrics: Metrics) -> Ports:
    return replace(world.ports, meter=metrics.meter)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def run(world: FakeWorld, metrics: Metrics) -> PassResult:
    return run_pass(measured(world, metrics), PassConfig())


def test_a_pass_times_each_stage_and_the_git_fetch() -> None:
    world, metrics = fake_world({"streaming/orders.yaml": app("orders")}), Metrics()
    run(world, metrics)
    for stage in STAGES:
        count = value(metrics, "gitflink_pass_stage_duration_seconds_count", stage=stage)
        assert count == 1, stage
    assert value(metrics, "gitflink_git_fetch_duration_seconds_count") == 1
    # The fake Flink waits in fake time, so executing took some: it is what was measured.
    assert value(metrics, "gitflink_pass_stage_duration_seconds_sum", stage="execute") > 0


class Unreachable:
    """A Git source whose remote is down (implements the GitSource port's fetch)."""

    def fetch(self) -> Revision:
        raise SourceError("remote unreachable")


def test_a_failed_fetch_is_counted_by_error() -> None:
    world, metrics = fake_world(), Metrics()
    ports = replace(measured(world, metrics), source=Unreachable())  # type: ignore[arg-type]
    result = run_pass(ports, PassConfig())
    assert result.error == "remote unreachable"
    assert value(metrics, "gitflink_git_fetch_errors_total", error="SourceError") == 1
    assert value(metrics, "gitflink_git_fetch_duration_seconds_count") == 1


def test_resources_by_state_commit_age_and_a_savepoint_upgrade() -> None:
    world, metrics = fake_world({"streaming/orders.yaml": app("orders")}), Metrics()
    run(world, metrics)
    assert value(metrics, "gitflink_resources", state="STABLE") == 1
    assert value(metrics, "gitflink_resources", state="FAILED") == 0
    revision = world.source.commit({"streaming/orders.yaml": app("orders", rate=20)})
    world.source.revision = replace(
        revision, committed_at=world.clock.now() - timedelta(seconds=90)
    )
    assert run(world, metrics).ok
    assert value(metrics, "gitflink_upgrades_total", mode="savepoint", outcome="ok") == 1
    assert value(metrics, "gitflink_commit_age_seconds_count") == 1
    assert value(metrics, "gitflink_commit_age_seconds_sum") >= 90
    labels = {"kind": "savepoint", "outcome": "ok"}
    assert value(metrics, "gitflink_snapshot_duration_seconds_count", **labels) == 1
    assert value(metrics, "gitflink_resources", state="STABLE") == 1  # not counted twice


def test_a_recovery_is_counted_and_a_quiet_pass_counts_nothing() -> None:
    world, metrics = fake_world({"streaming/orders.yaml": app("orders")}), Metrics()
    run(world, metrics)
    run(world, metrics)  # nothing to do
    assert value(metrics, "gitflink_recoveries_total", outcome="ok") == 0
    assert value(metrics, "gitflink_upgrades_total", mode="savepoint", outcome="ok") == 0
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.job_id is not None
    world.runtime.api_for(ORDERS).complete_checkpoint(status.job_status.job_id)
    world.runtime.lose_cluster(ORDERS)
    assert run(world, metrics).ok
    assert value(metrics, "gitflink_recoveries_total", outcome="ok") == 1
    assert value(metrics, "gitflink_commit_age_seconds_count") == 0  # no commit time known
