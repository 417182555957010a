"""A runtime that starts a FlinkDeployment's job with its JobManager (the Kubernetes runtime):
the executor hands it the generation's job id and restore path instead of uploading the jar,
then waits and verifies as for any submission. Session jobs still go over REST."""

from __future__ import annotations

from support.executor_plans import APP, app, deploy_plan, deployed, run, upgrade_plan
from support.fakes import fake_world

from gitflink.model.flink import JobStart
from gitflink.model.ids import job_id_for
from gitflink.model.status import LifecycleState


def test_a_deploy_starts_the_application_with_the_first_generations_job_id() -> None:
    world = fake_world()
    world.runtime.starts_applications = True
    result = run(world, deploy_plan(app()))
    assert result.ok, result.error
    assert world.runtime.application_starts == [(APP, JobStart(job_id_for(APP, 1)))]
    assert "upload_jar" not in world.journal.calls("flink")  # the jar is in the image
    status = world.store.load(APP)
    assert status is not None and status.lifecycle_state is LifecycleState.STABLE
    assert status.job_status.job_id == job_id_for(APP, 1)


def test_an_upgrade_starts_the_next_generation_from_the_savepoint_it_took() -> None:
    world = fake_world()
    world.runtime.starts_applications = True
    deployed(world)
    result = run(world, upgrade_plan(app(parallelism=3)))
    assert result.ok, result.error
    (_, first), (_, second) = world.runtime.application_starts
    assert first.restore_path is None
    status = world.store.load(APP)
    assert status is not None and status.job_status.last_savepoint is not None
    assert second == JobStart(job_id_for(APP, 2), status.job_status.last_savepoint.path)
    assert world.runtime.api_for(APP).jobs[second.job_id].restored == second.restore_path


def test_without_application_starts_the_job_is_uploaded_and_run() -> None:
    world = fake_world()
    assert run(world, deploy_plan(app())).ok
    assert world.runtime.application_starts == []
    assert {"upload_jar", "run_jar"} <= set(world.journal.calls("flink"))
