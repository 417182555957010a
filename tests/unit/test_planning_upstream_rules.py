"""Spec-change rules that need the last applied spec, as the operator applies them (each
docstring names the upstream test method the case was written from)."""

from __future__ import annotations

from typing import Any

import pytest
from support.planning_builders import Record, status

from gitflink.core import planning
from gitflink.core.plan_rendering import render_text
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import Action, JobPlan, Plan, StopJob, SubmitJob
from gitflink.model.resources import AnyResource, FlinkDeployment, FlinkSessionJob, UpgradeMode
from gitflink.model.status import JobStatus, Snapshot, SnapshotKind


def app(*, version: str = "v1_20", upgrade: str = "savepoint", **spec: Any) -> FlinkDeployment:
    job = {"jarURI": "local:///job.jar", "parallelism": 2, "upgradeMode": upgrade}
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": {"flinkVersion": version, **spec, "job": job | spec.pop("job", {})},
        }
    )


def running(deployed: AnyResource, **status_fields: Any) -> Observed:
    live = LiveJob("j1", "RUNNING", all_vertices_running=True, latest_checkpoint="file:///c/1")
    return Observed(status(deployed, **status_fields), cluster_running=True, job=live)  # type: ignore[arg-type]


def suspended(deployed: AnyResource, **status_fields: Any) -> Observed:
    return Observed(status(deployed, **status_fields), cluster_running=False)  # type: ignore[arg-type]


def plan(*desired: AnyResource, observed: dict[Any, Observed]) -> Plan:
    return planning.plan_changes([Record(d) for d in desired], observed)


def one(desired: AnyResource, observed: Observed) -> JobPlan:
    (job,) = plan(desired, observed={desired.id: observed}).jobs
    return job


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        ({}, {"mode": "standalone"}, "from native to standalone"),
        ({"mode": "native"}, {"mode": "standalone"}, "from native to standalone"),
        ({"mode": "standalone"}, {}, "from standalone to native"),
        ({"mode": "standalone"}, {"mode": "native"}, "from standalone to native"),
    ],
)
def test_switching_between_native_and_standalone_is_refused(
    before: dict[str, Any], after: dict[str, Any], words: str
) -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "Cannot switch from native
    kubernetes to standalone kubernetes cluster" and back; an unset mode is native."""
    desired = app(**after)
    found = plan(desired, observed={desired.id: running(app(**before))})
    (job,) = found.jobs
    assert job.action is Action.BLOCKED
    assert job.blocked is not None and words in job.blocked
    assert job.steps == ()
    (problem,) = found.problems
    assert (problem.field, problem.resource, problem.is_error) == ("spec.mode", desired.id, True)


def test_spelling_out_native_mode_is_not_a_switch() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: mode null and NATIVE are the same
    mode, so no refusal (the field still changes, as upstream's diff sees it)."""
    job = one(app(mode="native"), running(app()))
    assert job.action is Action.UPGRADE and job.blocked is None


def session_job(cluster: str) -> FlinkSessionJob:
    return FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": "clicks"},
            "spec": {
                "deploymentName": cluster,
                "job": {"jarURI": "local:///j.jar", "parallelism": 1, "upgradeMode": "savepoint"},
            },
        }
    )


def session_cluster(name: str, image: str = "flink:1.20") -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": name},
            "spec": {"flinkVersion": "v1_20", "image": image},
        }
    )


def test_a_session_job_cannot_move_to_another_cluster() -> None:
    """DefaultValidatorTest.testSessionJobWithSession: "The deploymentName can't be changed",
    even while the new cluster itself restarts."""
    old, new = session_job("first"), session_job("second")
    clusters = [session_cluster("first"), session_cluster("second", image="flink:1.20.1")]
    observed = {old.id: running(old)} | {
        c.id: running(session_cluster(c.metadata.name)) for c in clusters
    }
    found = plan(new, *clusters, observed=observed)
    job = found.for_resource(new.id)
    assert job is not None and job.action is Action.BLOCKED
    assert (
        job.blocked is not None and "deploymentName cannot change (first -> second)" in job.blocked
    )
    restarted = found.for_resource(clusters[1].id)
    assert restarted is not None
    assert not any(getattr(step, "target", None) == new.id for step in restarted.steps)


def last_state_suspended(version: str = "v1_18") -> Observed:
    return suspended(app(version=version, upgrade="last-state", job={"state": "suspended"}))


@pytest.mark.parametrize("state", ["running", "suspended"])
@pytest.mark.parametrize("mode", ["savepoint", "last-state"])
def test_a_new_flink_version_after_a_last_state_suspend_is_refused(state: str, mode: str) -> None:
    """DefaultValidatorTest.testFlinkVersionChangeValidation: after a last-state suspend the
    version may not change unless the job now goes stateless."""
    desired = app(version="v1_20", upgrade=mode, job={"state": state})
    job = one(desired, last_state_suspended())
    assert job.action is Action.BLOCKED
    assert job.blocked is not None and "suspended from last-state" in job.blocked
    assert not any(isinstance(step, SubmitJob) for step in job.steps)


def test_a_new_flink_version_is_allowed_after_other_suspends_or_to_stateless() -> None:
    """DefaultValidatorTest.testFlinkVersionChangeValidation: a savepoint or stateless suspend,
    a stateless target, and a running job may all change the version."""
    savepoint = Snapshot(path="file:///sp/1", kind=SnapshotKind.SAVEPOINT)
    recorded = {"job_status": JobStatus(last_savepoint=savepoint)}
    after_savepoint = suspended(app(version="v1_18", job={"state": "suspended"}), **recorded)
    assert one(app(), after_savepoint).action is Action.RESUME
    assert one(app(upgrade="stateless"), last_state_suspended()).action is Action.RESUME
    running_last_state = running(app(version="v1_18", upgrade="last-state"))
    upgraded = one(app(upgrade="last-state"), running_last_state)
    assert upgraded.action is Action.UPGRADE
    assert StopJob(upgraded.resource, UpgradeMode.SAVEPOINT) in upgraded.steps


def test_resuming_a_job_suspended_stateless_starts_empty_and_says_so() -> None:
    """ApplicationReconcilerTest.testUpgradeJmDeployCannotStart (from STATELESS to SAVEPOINT):
    the resumed job runs with no savepoint; the state was discarded when it was suspended."""
    observed = suspended(app(upgrade="stateless", job={"state": "suspended"}))
    job = one(app(upgrade="savepoint"), observed)
    assert job.action is Action.RESUME
    assert job.steps[-1] == SubmitJob(job.resource, restore=None)
    assert not job.state_loss
    assert any("suspended with upgradeMode: stateless" in risk for risk in job.risks)
    rendered = render_text(Plan(jobs=(job,)))
    assert "state=empty" in rendered
