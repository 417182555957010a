"""SCALE rules: in place on the adaptive scheduler (Flink >= 1.18) when no state is lost,
otherwise a full upgrade per upgradeMode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from gitflink.core import planning
from gitflink.core.planning import baseline as planning_baseline
from gitflink.core.planning import restoring as planning_restore
from gitflink.model.ids import ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import (
    Action,
    Downtime,
    JobPlan,
    Rescale,
    StartCluster,
    StopCluster,
    StopJob,
    SubmitJob,
    TakeCheckpoint,
)
from gitflink.model.resources import FlinkDeployment, UpgradeMode
from gitflink.model.status import ReconciliationStatus, ResourceStatus

CHECKPOINT = "file:///ck/job/chk-3"
OVERRIDES = "pipeline.jobvertex-parallelism-overrides"


@dataclass(frozen=True)
class Record:
    resource: FlinkDeployment
    file: str = "orders.yaml"


def app(
    *,
    version: str = "v1_20",
    scheduler: str | None = "adaptive",
    parallelism: int = 2,
    replicas: int | None = None,
    mode: str = "savepoint",
    config: dict[str, str] | None = None,
    standalone: bool = True,
    **job: Any,
) -> FlinkDeployment:
    """In standalone mode unless told: only there are parallelism and replicas SCALE."""
    conf = {"jobmanager.scheduler": scheduler} if scheduler else {}
    spec: dict[str, Any] = {
        "flinkVersion": version,
        **({"mode": "standalone"} if standalone else {}),
        "flinkConfiguration": {**conf, **(config or {})},
        "job": {"jarURI": "local:///job.jar", "parallelism": parallelism, "upgradeMode": mode}
        | job,
    }
    if replicas is not None:
        spec["taskManager"] = {"replicas": replicas}
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": spec,
        }
    )


def running(
    deployed: FlinkDeployment, *, checkpoint: str | None = CHECKPOINT, version: str | None = None
) -> Observed:
    spec = deployed.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    status = ResourceStatus(reconciliation=ReconciliationStatus(last_applied_spec=spec))
    live = LiveJob("j1", "RUNNING", all_vertices_running=True, latest_checkpoint=checkpoint)
    return Observed(status, cluster_running=True, job=live, flink_version=version)


def plan_one(desired: FlinkDeployment, observed: Observed) -> JobPlan:
    (job,) = planning.plan_changes([Record(desired)], {desired.id: observed}).jobs
    return job


def kinds(job: JobPlan) -> list[str]:
    return [type(step).__name__ for step in job.steps]


def orders() -> ResourceId:
    return app().id


def test_parallelism_rescales_in_place_on_1_20_once_a_checkpoint_exists() -> None:
    job = plan_one(app(parallelism=4), running(app(), version="1.20.5"))
    assert job.action is Action.SCALE
    assert job.steps == (Rescale(orders(), 4),)
    assert job.downtime is Downtime.RESCALE and not job.state_loss
    assert any(CHECKPOINT in note for note in job.notes)


def test_no_checkpoint_on_1_x_plans_a_savepoint_upgrade_because_flink_would_lose_state() -> None:
    job = plan_one(app(parallelism=4), running(app(), checkpoint=None, version="1.20.5"))
    assert job.action is Action.SCALE
    stop, submit = job.steps
    assert stop == StopJob(orders(), UpgradeMode.SAVEPOINT)
    assert submit == SubmitJob(orders(), planning_restore.taken())
    assert job.upgrade_mode is UpgradeMode.SAVEPOINT
    assert job.downtime is Downtime.RESTART and not job.state_loss
    assert any("would lose its state" in risk for risk in job.risks), job.risks


def test_no_checkpoint_on_1_x_in_last_state_mode_upgrades_per_last_state() -> None:
    old = app(mode="last-state")
    job = plan_one(app(parallelism=4, mode="last-state"), running(old, checkpoint=None))
    assert kinds(job) == ["StopJob", "SubmitJob"]
    assert job.steps[0] == StopJob(orders(), UpgradeMode.LAST_STATE)


def test_flink_2_rescales_in_place_without_a_checkpoint_since_it_takes_one_first() -> None:
    job = plan_one(
        app(version="v2_0", parallelism=4), running(app(version="v2_0"), checkpoint=None)
    )
    assert job.steps == (Rescale(orders(), 4),)


def test_a_checkpoint_requested_in_the_same_change_comes_before_the_rescale() -> None:
    desired = app(parallelism=4, checkpointTriggerNonce=1)
    job = plan_one(desired, running(app(), checkpoint=None))
    assert job.steps == (TakeCheckpoint(orders()), Rescale(orders(), 4))


def test_the_version_flink_reports_decides_over_the_declared_one() -> None:
    job = plan_one(app(parallelism=4), running(app(), version="1.17.2"))
    assert kinds(job) == ["StopJob", "SubmitJob"]
    assert any("1.18 or later, not 1.17" in note for note in job.notes), job.notes


def test_declared_version_decides_when_flink_reports_none() -> None:
    job = plan_one(app(version="v1_17", parallelism=4), running(app(version="v1_17")))
    assert kinds(job) == ["StopJob", "SubmitJob"]


def test_default_scheduler_rescales_by_a_full_upgrade() -> None:
    job = plan_one(app(scheduler=None, parallelism=4), running(app(scheduler=None)))
    assert kinds(job) == ["StopJob", "SubmitJob"]
    assert any("jobmanager.scheduler: adaptive" in note for note in job.notes)


def test_more_taskmanagers_join_a_running_adaptive_cluster_without_a_restart() -> None:
    job = plan_one(app(replicas=3), running(app(replicas=2), checkpoint=None))
    assert job.action is Action.SCALE
    assert job.steps == (StartCluster(orders()),)
    assert job.downtime is Downtime.NONE


def test_more_taskmanagers_and_parallelism_grow_the_cluster_then_rescale() -> None:
    job = plan_one(app(replicas=3, parallelism=6), running(app(replicas=2)))
    assert job.steps == (StartCluster(orders()), Rescale(orders(), 6))
    assert job.downtime is Downtime.RESCALE


@pytest.mark.parametrize(("before", "after"), [(3, 2), (None, 2), (2, None)])
def test_fewer_or_derived_taskmanagers_restart_the_cluster_per_upgrade_mode(
    before: int | None, after: int | None
) -> None:
    job = plan_one(app(replicas=after), running(app(replicas=before)))
    assert kinds(job) == ["StopJob", "StopCluster", "StartCluster", "SubmitJob"]
    assert job.steps[0] == StopJob(orders(), UpgradeMode.SAVEPOINT)


def test_more_taskmanagers_without_the_adaptive_scheduler_is_a_full_upgrade() -> None:
    job = plan_one(app(scheduler=None, replicas=3), running(app(scheduler=None, replicas=2)))
    assert StopCluster(orders()) in job.steps and kinds(job)[0] == "StopJob"


def test_parallelism_overrides_restart_the_cluster_with_the_new_configuration() -> None:
    old = app(config={OVERRIDES: "a:1"}, standalone=False)
    new = app(config={OVERRIDES: "a:2"}, standalone=False)
    job = plan_one(new, running(old))
    assert job.action is Action.SCALE
    assert kinds(job) == ["StopJob", "StopCluster", "StartCluster", "SubmitJob"]
    assert any(OVERRIDES in note for note in job.notes)


def test_stopped_job_is_not_rescaled_in_place() -> None:
    observed = running(app())
    failed = Observed(observed.status, cluster_running=True, job=LiveJob("j1", "FAILED"))
    job = plan_one(app(parallelism=4), failed)
    assert not any(isinstance(step, Rescale) for step in job.steps)


def test_pull_request_plan_assumes_a_checkpoint_and_says_so() -> None:
    observed = planning_baseline.observed_from_revision([app()])
    job = plan_one(app(parallelism=4), observed[orders()])
    assert job.steps == (Rescale(orders(), 4),)
    assert any(planning_baseline.ASSUMED_CHECKPOINT in note for note in job.notes)


def test_parallelism_overrides_are_an_upgrade_in_standalone_mode() -> None:
    """SpecDiffTest.testFlinkDeploymentSpecChanges: the overrides key is UPGRADE in standalone
    mode, SCALE in native mode."""
    old, new = app(config={OVERRIDES: "a:1"}), app(config={OVERRIDES: "a:2"})
    job = plan_one(new, running(old))
    assert job.action is Action.UPGRADE
    assert kinds(job) == ["StopJob", "StopCluster", "StartCluster", "SubmitJob"]


def test_parallelism_change_in_native_mode_is_an_upgrade_not_a_rescale() -> None:
    """SpecDiffTest.testFlinkDeploymentSpecChanges: job.parallelism is UPGRADE in native mode."""
    job = plan_one(app(parallelism=4, standalone=False), running(app(standalone=False)))
    assert job.action is Action.UPGRADE
    assert not any(isinstance(step, Rescale) for step in job.steps)
