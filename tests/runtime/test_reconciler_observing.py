"""Observing (read-only) and how the pass treats what it observed; live progress output."""

from __future__ import annotations

import io

from rich.console import Console
from support.executor_plans import APP, app, deployed, run, upgrade_plan
from support.fakes import fake_world
from support.passes import ORDERS
from support.passes import app as manifest

from gitflink.model.errors import Next
from gitflink.runtime.observing import observe
from gitflink.runtime.progress import LineProgress, LiveProgress, for_stream
from gitflink.runtime.reconciler import run_pass


def test_observe_reports_a_changed_resources_job_in_depth_as_flink_sees_it() -> None:
    world = fake_world()
    job_id = deployed(world)
    api = world.runtime.api_for(APP)
    checkpoint = api.complete_checkpoint(job_id)
    seen = observe(world.ports, [app(parallelism=3)], world.store.load_all()).observed[APP]
    assert seen.cluster_running and seen.deployed
    assert seen.flink_version == "1.20.5"
    assert seen.job is not None
    assert (seen.job.job_id, seen.job.state, seen.job.all_vertices_running) == (
        job_id,
        "RUNNING",
        True,
    )
    assert (seen.job.parallelism, seen.job.latest_checkpoint) == (2, checkpoint)


def test_observe_reports_a_finished_jobs_final_savepoint_as_its_latest_state() -> None:
    world = fake_world()
    job_id = deployed(world)
    api = world.runtime.api_for(APP)
    api.complete_checkpoint(job_id)
    api.deploy_polls = 10**6  # the new job never runs: the upgrade stops after the stop
    run(world, upgrade_plan(app(parallelism=3)))
    status = world.store.load(APP)
    assert status is not None
    status.job_status.job_id = job_id  # look at the stopped job
    seen = observe(world.ports, [], {APP: status}).observed[APP]
    assert seen.job is not None and seen.job.state == "FINISHED"
    assert seen.job.latest_checkpoint == api.jobs[job_id].savepoints[-1]


def test_observe_without_a_cluster_reports_nothing_running() -> None:
    world = fake_world()
    seen = observe(world.ports, [app()], {}).observed[APP]
    assert not seen.cluster_running and seen.job is None and not seen.deployed


def test_unreachable_cluster_is_skipped_as_waiting_not_replanned() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    assert run_pass(world.ports).ok
    world.source.commit({"streaming/orders.yaml": manifest("orders", rate=99)})
    world.runtime.api_for(ORDERS).unreachable = True
    calls = len(world.journal.calls("flink"))
    result = run_pass(world.ports)
    [execution] = result.executions
    assert not execution.ok and execution.next is Next.WAIT
    assert "did not answer" in (execution.error or "")
    assert world.journal.calls("flink")[calls:] == []


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = for_stream(stream)
    assert isinstance(progress, LineProgress)
    progress.step(APP, "stopping job 1234 with a savepoint")
    progress.done(APP, "upgrade: done", ok=True)
    progress.done(APP, "upgrade failed", ok=False)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("default/orders: stopping job 1234 with a savepoint")
    assert lines[1].endswith("default/orders: done: upgrade: done")
    assert lines[2].endswith("default/orders: FAILED: upgrade failed")


def test_live_progress_prints_finished_resources_on_a_terminal() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    with LiveProgress(console) as progress:
        progress.step(APP, "waiting for every task to run")
        progress.done(APP, "deploy: submitted", ok=True)
    assert "deploy: submitted" in stream.getvalue()
    assert "\x1b[" in stream.getvalue()  # drawn with terminal control codes
