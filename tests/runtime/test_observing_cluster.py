"""Observing per cluster: one job listing per cluster, details only where planning may need them,
and what a quiet pass still notices (a failed job, an unreachable cluster)."""

from __future__ import annotations

import os
from pathlib import Path

from support.executor_plans import APP, app, deployed
from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, SESSION, SESSION_FILES, VIEWS
from support.passes import app as manifest

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.ports import Ports
from gitflink.runtime.observing import observe
from gitflink.runtime.reconciler import PassConfig, run_pass

CLICKS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "clicks")


def _two_apps() -> FakeWorld:
    world = fake_world(
        {"streaming/orders.yaml": manifest("orders"), "streaming/clicks.yaml": manifest("clicks")}
    )
    assert run_pass(world.ports).ok
    assert run_pass(world.ports).ok  # the new jobs' tasks are running by now
    return world


def test_unchanged_running_job_is_observed_from_one_job_listing() -> None:
    world = fake_world()
    job_id = deployed(world)
    api = world.runtime.api_for(APP)
    api.complete_checkpoint(job_id)
    api.reads.clear()
    observation = observe(world.ports, [app()], world.store.load_all())
    seen = observation.observed[APP]
    assert seen.job is not None
    assert (seen.job.job_id, seen.job.state, seen.job.all_vertices_running) == (
        job_id,
        "RUNNING",
        True,
    )
    assert APP not in observation.detailed
    assert dict(api.reads) == {"list_jobs": 1}


def test_job_still_deploying_is_observed_in_depth() -> None:
    world = fake_world()
    job_id = deployed(world)
    api = world.runtime.api_for(APP)
    api.jobs[job_id].polls_until_running = 5  # tasks not all running yet
    api.reads.clear()
    observation = observe(world.ports, [app()], world.store.load_all())
    seen = observation.observed[APP]
    assert APP in observation.detailed
    assert seen.job is not None and not seen.job.all_vertices_running
    assert seen.job.parallelism == 2 and seen.flink_version == "1.20.5"
    assert api.reads["job_details"] == 1 and api.reads["checkpoints"] == 1


def test_resource_removed_from_git_is_observed_in_depth() -> None:
    world = fake_world()
    job_id = deployed(world)
    checkpoint = world.runtime.api_for(APP).complete_checkpoint(job_id)
    observation = observe(world.ports, [], world.store.load_all())
    assert APP in observation.detailed
    job = observation.observed[APP].job
    assert job is not None and job.latest_checkpoint == checkpoint


def test_quiet_passes_list_jobs_once_per_cluster_and_plan_nothing() -> None:
    world = _two_apps()
    apis = [world.runtime.api_for(ORDERS), world.runtime.api_for(CLICKS)]
    for api in apis:
        api.complete_checkpoint(next(iter(api.jobs)))  # a new checkpoint is no change
        api.reads.clear()
    config = PassConfig()
    for _ in range(3):
        result = run_pass(world.ports, config)
        assert result.ok and result.plan is not None
        assert {job.action for job in result.plan.jobs} == {Action.NONE}
    assert [dict(api.reads) for api in apis] == [{"list_jobs": 3}, {"list_jobs": 3}]


def test_quiet_pass_notices_a_failed_job_and_plans_again() -> None:
    world = _two_apps()
    config = PassConfig()
    run_pass(world.ports, config)
    api = world.runtime.api_for(ORDERS)
    [job] = api.jobs.values()
    job.state = "FAILED"
    result = run_pass(world.ports, config)
    assert result.plan is not None
    [orders] = [j for j in result.plan.jobs if j.resource == ORDERS]
    assert any("FAILED" in note for note in orders.notes)
    assert api.reads["job_details"] >= 1  # a job not running is read in depth


def test_unreachable_cluster_marks_only_its_own_resources() -> None:
    world = _two_apps()
    world.runtime.api_for(CLICKS).unreachable = True
    observation = observe(world.ports, [], world.store.load_all())
    assert set(observation.unreachable) == {CLICKS}
    assert "did not answer" in observation.unreachable[CLICKS]
    assert observation.observed[ORDERS].cluster_running


def test_session_cluster_change_reads_its_jobs_in_depth() -> None:
    world = fake_world(SESSION_FILES)
    assert run_pass(world.ports).ok
    assert run_pass(world.ports).ok
    world.source.commit(
        {
            **SESSION_FILES,
            "analytics/cluster.yaml": SESSION_FILES["analytics/cluster.yaml"].replace(
                b"v1_20}", b"v1_20, image: 'flink:1.20.1'}"
            ),
        }
    )
    manifests = PassConfig().reader.read(world.source, world.source.fetch())
    desired = [d.resource for d in manifests.parsed.desired]
    observation = observe(world.ports, desired, world.store.load_all())
    assert {SESSION, VIEWS} <= observation.detailed
    job = observation.observed[VIEWS].job
    assert job is not None and job.parallelism == 1


def test_quiet_passes_on_the_file_store_parse_nothing_yet_notice_a_failed_job(
    tmp_path: Path,
) -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    store = FileStatusStore(tmp_path)
    ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
    config = PassConfig()
    assert run_pass(ports, config).ok
    assert run_pass(ports, config).ok
    path = store.path_of(ORDERS)
    old = path.stat().st_mtime_ns - 3600 * 10**9  # past the window where stamps are not trusted
    os.utime(path, ns=(old, old))
    run_pass(ports, config)
    parses = store.parses
    run_pass(ports, config)
    run_pass(ports, config)
    assert store.parses == parses
    [job] = world.runtime.api_for(ORDERS).jobs.values()
    job.state = "FAILED"
    result = run_pass(ports, config)
    [orders] = result.plan.jobs if result.plan else []
    assert any("FAILED" in note for note in orders.notes)
