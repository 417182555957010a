"""A session cluster upgrade carries its stateful session jobs: each stops with a savepoint,
the cluster restarts, each job is resubmitted from its own savepoint (upstream kills them)."""

from __future__ import annotations

from typing import Any

from support.fakes import fake_world
from support.passes import SESSION, VIEWS
from support.passes import pass_ok as _pass

from gitflink.model.errors import ClusterError
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import LifecycleState
from gitflink.runtime.reconciler import PassConfig, run_pass

CLICKS = ResourceId(Kind.FLINK_SESSION_JOB, "analytics", "clicks")


def files(image: str) -> dict[str, bytes]:
    cluster = f"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {{name: session, namespace: analytics}}
spec:
  image: {image}
  flinkVersion: v1_20
  flinkConfiguration:
    jobmanager.memory.process.size: 1g
    taskmanager.memory.process.size: 1g
    state.checkpoints.dir: file:///flink-data/checkpoints
    state.savepoints.dir: file:///flink-data/savepoints
"""
    jobs = ""
    for name, mode in (("views", "savepoint"), ("clicks", "stateless")):
        jobs += f"""---
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {{name: {name}, namespace: analytics}}
spec:
  deploymentName: session
  job:
    jarURI: local:///opt/flink/examples/streaming/gitflink-testjob.jar
    parallelism: 1
    upgradeMode: {mode}
"""
    return {"analytics/cluster.yaml": cluster.encode(), "analytics/jobs.yaml": jobs.encode()}


def test_cluster_upgrade_resubmits_stateful_session_job_from_its_own_savepoint() -> None:
    world = fake_world(files("flink:1.20.1"))
    _pass(world)
    first_views, first_clicks = job_id_for(VIEWS, 1), job_id_for(CLICKS, 1)
    old_api = world.runtime.api_for(SESSION)
    assert sorted(j.job_id for j in old_api.running_jobs()) == sorted([first_views, first_clicks])

    world.source.commit(files("flink:1.20.2"))
    _pass(world)

    views = world.store.load(VIEWS)
    assert views is not None and views.job_status.last_savepoint is not None
    savepoint = views.job_status.last_savepoint.path
    assert old_api.jobs[first_views].savepoints[-1] == savepoint
    api = world.runtime.api_for(SESSION)
    running = {job.job_id: job for job in api.running_jobs()}
    assert sorted(running) == sorted([job_id_for(VIEWS, 2), job_id_for(CLICKS, 2)])
    assert running[job_id_for(VIEWS, 2)].restored == savepoint
    assert running[job_id_for(CLICKS, 2)].restored is None
    for rid in (SESSION, VIEWS, CLICKS):
        status = world.store.load(rid)
        assert status is not None and status.lifecycle_state is LifecycleState.STABLE, rid
        assert status.pending is None, rid
    assert views.job_status.job_id == job_id_for(VIEWS, 2)


def test_cluster_that_fails_to_come_back_leaves_each_job_its_savepoint_for_the_next_pass() -> None:
    world = fake_world(files("flink:1.20.1"))
    _pass(world)
    old_api = world.runtime.api_for(SESSION)

    world.source.commit(files("flink:1.20.2"))
    # Failing for longer than the readiness timeout (300 s): the start is tried again until
    # then (docs/rollback.md), and the pass fails; without rollback the next one tries again.
    start, failures = world.runtime.ensure_cluster, []

    def failing(resource: ResourceId, spec: FlinkDeploymentSpec, **kwargs: Any) -> Any:
        if spec.image == "flink:1.20.2" and world.clock.monotonic() < deadline:
            failures.append(resource)
            raise ClusterError("JobManager exited during start-up")
        return start(resource, spec, **kwargs)

    deadline = world.clock.monotonic() + 600
    world.runtime.ensure_cluster = failing  # type: ignore[method-assign]
    result = run_pass(world.ports, PassConfig())
    assert not result.ok and len(failures) > 2
    views = world.store.load(VIEWS)
    assert views is not None and views.pending is not None
    savepoint = views.job_status.upgrade_savepoint_path
    assert savepoint == old_api.jobs[job_id_for(VIEWS, 1)].savepoints[-1]

    world.clock.sleep(600)  # the cluster's trouble is over
    _pass(world)
    running = {job.job_id: job for job in world.runtime.api_for(SESSION).running_jobs()}
    assert sorted(running) == sorted([job_id_for(VIEWS, 2), job_id_for(CLICKS, 2)])
    assert running[job_id_for(VIEWS, 2)].restored == savepoint
    views = world.store.load(VIEWS)
    assert views is not None and views.pending is None
