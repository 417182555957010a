"""Passes against real Flink 1.20 and 2.3: every kind of change a FlinkDeployment goes through,
a rescale on Flink 1.x before and after its first checkpoint, and a session cluster with two
session jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.flink_fixtures import TESTED_VERSIONS, wait_for
from support.sync_flink_support import (
    JAR,
    app_manifest,
    counter_gauge,
    flink_world,
    local_runtime,
    sources_all_emitting,
    wait_checkpoint,
    wait_counting,
    yaml_bytes,
)

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.plan import Action, Downtime, JobPlan
from gitflink.model.status import LifecycleState, SnapshotTrigger
from gitflink.ports import FlinkApi
from gitflink.runtime.context import same_path
from gitflink.runtime.reconciler import PassResult

pytestmark = [pytest.mark.flink, pytest.mark.slow]
__all__ = ["local_runtime"]  # a fixture, imported for pytest to find


def _action(result: PassResult, resource: ResourceId) -> Action:
    return next(e.action for e in result.executions if e.resource == resource)


@pytest.mark.parametrize("version", TESTED_VERSIONS)
def test_application_deployment_through_every_kind_of_change(
    version: str, local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    name = f"app-{version.replace('_', '-')}"
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", name)
    path = f"it/{name}.yaml"

    def manifest(**changes: object) -> dict[str, bytes]:
        return {path: yaml_bytes(app_manifest(version, name, **changes))}  # type: ignore[arg-type]

    world = flink_world(local_runtime, tmp_path, manifest())

    # Deploy: cluster and job up, every vertex RUNNING.
    world.sync()
    first = job_id_for(rid, 1)
    assert world.running_jobs(rid) == [first]
    assert world.status(rid).lifecycle_state is LifecycleState.STABLE
    api = world.api(rid)
    counted = wait_counting(api, first, 5)

    # Savepoint upgrade: new parallelism and argument; the counter continues from the savepoint.
    world.commit(manifest(parallelism=3, rate=150))
    assert _action(world.sync(), rid) is Action.UPGRADE
    second = job_id_for(rid, 2)
    assert world.running_jobs(rid) == [second]
    status = world.status(rid)
    savepoint = status.job_status.last_savepoint
    assert savepoint is not None and savepoint.job_id == first
    restored = api.checkpoints(second).restored
    assert restored is not None and restored.rstrip("/") == savepoint.path.rstrip("/")
    assert {v.parallelism for v in api.job_details(second).vertices} == {3}
    start = wait_for(lambda: counter_gauge(api, second, "startCount", low=True), 60.0, "start")
    assert start > 1, f"the new job started from empty state (old job had counted {counted})"
    # Every source subtask runs at the new parallelism: none finishes for want of a split.
    wait_for(lambda: sources_all_emitting(api, second), 60.0, "every source subtask emitting")

    # Savepoint nonce: a savepoint while the job keeps running.
    world.commit(manifest(parallelism=3, rate=150, savepointTriggerNonce=1))
    world.sync()
    status = world.status(rid)
    assert status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.trigger is SnapshotTrigger.MANUAL
    assert world.running_jobs(rid) == [second]

    # In-place rescale on the adaptive scheduler, once a checkpoint exists.
    wait_checkpoint(api, second)
    world.commit(manifest(parallelism=2, rate=150, savepointTriggerNonce=1))
    assert _action(world.sync(), rid) is Action.SCALE
    assert world.running_jobs(rid) == [second]
    assert {v.parallelism for v in api.job_details(second).vertices} == {2}

    # Last-state upgrade: restored from the newest checkpoint.
    wait_checkpoint(api, second)
    world.commit(manifest(parallelism=2, rate=120, mode="last-state", savepointTriggerNonce=1))
    world.sync()
    third = job_id_for(rid, 3)
    assert world.running_jobs(rid) == [third]
    restored = api.checkpoints(third).restored
    assert restored is not None and "/chk-" in restored

    # Stateless upgrade: empty state, nothing restored.
    world.commit(manifest(parallelism=2, rate=110, mode="stateless", savepointTriggerNonce=1))
    world.sync()
    fourth = job_id_for(rid, 4)
    assert world.running_jobs(rid) == [fourth]
    assert api.checkpoints(fourth).restored is None

    # Suspend with a savepoint, then resume from it.
    saved = {"parallelism": 2, "rate": 110, "savepointTriggerNonce": 1}
    world.commit(manifest(**saved, state="suspended"))
    world.sync()
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.SUSPENDED
    suspend_savepoint = status.job_status.upgrade_savepoint_path
    assert suspend_savepoint is not None
    assert world.running_jobs(rid) == []
    world.commit(manifest(**saved))
    world.sync()
    fifth = job_id_for(rid, 5)
    assert world.running_jobs(rid) == [fifth]
    restored = world.api(rid).checkpoints(fifth).restored  # a new cluster after the suspend
    assert restored is not None and restored.rstrip("/") == suspend_savepoint.rstrip("/")

    # Delete: removed from Git (the only resource: a mass prune, allowed here) -> the stateful
    # job stops with a final savepoint, the cluster goes, a tombstone keeps the savepoint.
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert local_runtime.find_cluster(rid) is None
    tombstone = world.status(rid)
    assert tombstone.lifecycle_state is LifecycleState.DELETED
    final = tombstone.history[0]
    assert final.action == "delete" and final.savepoint is not None
    assert Path(final.savepoint.removeprefix("file:")).is_dir()


def test_session_cluster_runs_two_session_jobs_and_upgrades_one(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    cluster = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "session")
    views = ResourceId(Kind.FLINK_SESSION_JOB, "it", "views")
    clicks = ResourceId(Kind.FLINK_SESSION_JOB, "it", "clicks")

    def session_job(name: str, rate: int, mode: str) -> dict[str, object]:
        job = {"jarURI": JAR, "entryClass": "gitflink.testjob.CounterJob", "parallelism": 1}
        job |= {"args": ["--rate", str(rate), "--counter-uid", name], "upgradeMode": mode}
        return {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": name, "namespace": "it"},
            "spec": {"deploymentName": "session", "job": job},
        }

    session = app_manifest("v1_20", "session")
    del session["spec"]["job"]

    def files(views_rate: int) -> dict[str, bytes]:
        jobs = (
            session_job("views", views_rate, "savepoint"),
            session_job("clicks", 50, "stateless"),
        )
        return {"it/session.yaml": yaml_bytes(session), "it/jobs.yaml": yaml_bytes(*jobs)}

    world = flink_world(local_runtime, tmp_path, files(50))
    world.sync()
    first_views, first_clicks = job_id_for(views, 1), job_id_for(clicks, 1)
    assert sorted(world.running_jobs(cluster)) == sorted([first_views, first_clicks])
    assert world.status(cluster).lifecycle_state is LifecycleState.STABLE

    world.commit(files(80))
    world.sync()
    assert sorted(world.running_jobs(cluster)) == sorted([job_id_for(views, 2), first_clicks])
    savepoint = world.status(views).job_status.last_savepoint
    restored = world.api(cluster).checkpoints(job_id_for(views, 2)).restored
    assert savepoint is not None and restored is not None
    assert restored.rstrip("/") == savepoint.path.rstrip("/")

    # The cluster itself changes: gitflink stops the stateful session job with a savepoint,
    # restarts the cluster and resubmits both; the stateful one continues from its savepoint.
    session["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = 3  # type: ignore[index]
    world.commit(files(80))
    assert _action(world.sync(), cluster) is Action.UPGRADE
    third_views, second_clicks = job_id_for(views, 3), job_id_for(clicks, 2)
    assert sorted(world.running_jobs(cluster)) == sorted([third_views, second_clicks])
    api = world.api(cluster)
    carried = world.status(views).job_status.last_savepoint
    assert carried is not None and carried.job_id == job_id_for(views, 2)
    restored = api.checkpoints(third_views).restored
    assert restored is not None and same_path(restored, carried.path)
    assert api.checkpoints(second_clicks).restored is None
    start = wait_for(lambda: counter_gauge(api, third_views, "startCount", low=True), 60.0, "start")
    assert start > 1, "the session job started from empty state after its cluster's upgrade"

    world.commit({})
    world.sync(allow_mass_prune=True)  # every manifest removed on purpose
    assert local_runtime.find_cluster(cluster) is None


def test_rescale_on_flink_1_is_in_place_only_once_a_checkpoint_exists(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    """Flink 1.x restarts a rescaled job from its latest checkpoint, and from nothing when there
    is none yet: gitflink upgrades with a savepoint then, and rescales in place afterwards."""
    name = "rescale-v1-20"
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", name)
    # --checkpoint-interval 0: no periodic checkpoints, so none exists until one is requested.
    args = ["--rate", "100", "--keys", "16", "--checkpoint-interval", "0"]

    def manifest(**changes: object) -> dict[str, bytes]:
        doc = app_manifest("v1_20", name, args=args, **changes)  # type: ignore[arg-type]
        return {f"it/{name}.yaml": yaml_bytes(doc)}

    world = flink_world(local_runtime, tmp_path, manifest())
    world.sync()
    first = job_id_for(rid, 1)
    api = world.api(rid)
    wait_counting(api, first, 5)
    assert api.checkpoints(first).latest_completed is None

    # No checkpoint: a savepoint upgrade at the new parallelism instead of an in-place rescale.
    world.commit(manifest(parallelism=3))
    plan = _plan(world.sync(), rid)
    assert (plan.action, plan.downtime) == (Action.SCALE, Downtime.RESTART)
    assert any("would lose its state" in risk for risk in plan.risks), plan.risks
    second = job_id_for(rid, 2)
    assert world.running_jobs(rid) == [second]
    savepoint = world.status(rid).job_status.last_savepoint
    restored = api.checkpoints(second).restored
    assert savepoint is not None and same_path(restored, savepoint.path)
    assert {v.parallelism for v in api.job_details(second).vertices} == {3}
    started = wait_for(lambda: _started(api, second, above=1), 60.0, "restored counter")

    # A checkpoint on request, then the rescale runs in place: same job, restored from it.
    wait_counting(api, second, started + 50)  # counts grow past what the savepoint held
    world.commit(manifest(parallelism=3, checkpointTriggerNonce=1))
    world.sync()
    checkpoint = world.status(rid).job_status.last_checkpoint
    assert checkpoint is not None and api.checkpoints(second).latest_completed is not None
    world.commit(manifest(parallelism=2, checkpointTriggerNonce=1))
    plan = _plan(world.sync(), rid)
    assert (plan.action, plan.downtime, len(plan.steps)) == (Action.SCALE, Downtime.RESCALE, 1)
    assert world.running_jobs(rid) == [second]  # Flink keeps the job id on a rescale
    assert {v.parallelism for v in api.job_details(second).vertices} == {2}
    wait_for(  # checkpoint statistics are cached for a few seconds
        lambda: same_path(api.checkpoints(second).restored, checkpoint.path), 30.0, "restored"
    )
    # Stale gauges of the previous start stay at or below `started`; an empty start reads 1.
    wait_for(lambda: _started(api, second, above=started), 60.0, "counter continuing")
    world.commit({})
    world.sync(allow_mass_prune=True)


def _plan(result: PassResult, resource: ResourceId) -> JobPlan:
    assert result.plan is not None
    return next(job for job in result.plan.jobs if job.resource == resource)


def _started(api: FlinkApi, job_id: str, *, above: float) -> float | None:
    """The highest count a counter subtask restored at its latest start, once above `above`."""
    value = counter_gauge(api, job_id, "startCount")
    return value if value is not None and value > above else None
