"""The periodic snapshot and history rules as pure planning: due only after the interval, only for
a job observed running as recorded, the same trigger key for the same facts, checkpoints only
where Flink can trigger them, and trimming planned from the retention rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.planning_builders import Record, status

from gitflink.core import planning
from gitflink.core.planning.facts import Healing
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import Action, JobPlan, TakeCheckpoint, TakeSavepoint, TrimHistory
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import JobStatus, Snapshot

STARTED = datetime(2026, 1, 1, tzinfo=UTC)
SAVEPOINTS = "kubernetes.operator.periodic.savepoint.interval"
CHECKPOINTS = "kubernetes.operator.periodic.checkpoint.interval"


def app(version: str = "v1_20", **config: str) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": {
                "flinkVersion": version,
                "flinkConfiguration": config,
                "job": {"jarURI": "local:///job.jar", "upgradeMode": "savepoint"},
            },
        }
    )


def plan_at(
    desired: FlinkDeployment,
    minutes: float,
    *,
    job: JobStatus | None = None,
    state: str = "RUNNING",
    live_id: str = "j1",
) -> JobPlan:
    recorded = status(desired, job_status=job or JobStatus(job_id="j1", start_time=STARTED))
    live = LiveJob(live_id, state, all_vertices_running=state == "RUNNING")
    observed = Observed(recorded, cluster_running=True, job=live)
    now = STARTED + timedelta(minutes=minutes)
    plan = planning.plan_changes(
        [Record(desired)], {desired.id: observed}, healing=Healing(now=now)
    )
    (found,) = plan.jobs
    return found


def test_no_periodic_savepoint_before_the_interval_passed() -> None:
    assert plan_at(app(**{SAVEPOINTS: "10 min"}), 9).action is Action.NONE


def test_a_periodic_savepoint_after_the_interval_with_a_key_from_the_facts() -> None:
    first = plan_at(app(**{SAVEPOINTS: "10 min"}), 10)
    again = plan_at(app(**{SAVEPOINTS: "10 min"}), 11)
    assert first.action is Action.SAVEPOINT
    [step] = first.steps
    assert isinstance(step, TakeSavepoint) and (step.trigger, step.use) == ("PERIODIC", "periodic")
    assert again.steps == first.steps  # the same key: a retried pass re-attaches to the trigger


def test_the_interval_counts_from_the_newest_savepoint() -> None:
    taken = Snapshot(path="sp", taken_at=STARTED + timedelta(minutes=8))
    job = JobStatus(job_id="j1", start_time=STARTED, last_savepoint=taken)
    assert plan_at(app(**{SAVEPOINTS: "10 min"}), 12, job=job).action is Action.NONE
    assert plan_at(app(**{SAVEPOINTS: "10 min"}), 18, job=job).action is Action.SAVEPOINT


def test_only_a_job_observed_running_as_recorded_gets_one() -> None:
    config = {SAVEPOINTS: "1 min"}
    assert plan_at(app(**config), 5, state="RESTARTING").action is not Action.SAVEPOINT
    assert plan_at(app(**config), 5, live_id="other").action is not Action.SAVEPOINT
    assert plan_at(app(), 5).action is Action.NONE  # no interval: off


def test_periodic_checkpoints_only_where_flink_can_trigger_them() -> None:
    due = plan_at(app(**{CHECKPOINTS: "1 min"}), 2)
    assert due.action is Action.CHECKPOINT
    assert isinstance(due.steps[0], TakeCheckpoint)
    old = plan_at(app("v1_16", **{CHECKPOINTS: "1 min"}), 2)
    assert old.action is Action.NONE and old.steps == ()
    assert any("1.17" in note for note in old.notes)


def test_trimming_is_planned_from_the_retention_rule() -> None:
    history = [Snapshot(path=f"sp-{i}", taken_at=STARTED + timedelta(minutes=i)) for i in range(4)]
    job = JobStatus(
        job_id="j1", start_time=STARTED, savepoint_history=history, last_savepoint=history[-1]
    )
    config = {
        "kubernetes.operator.savepoint.history.max.count": "2",
        "kubernetes.operator.savepoint.dispose-on-delete": "true",
    }
    found = plan_at(app(**config), 5, job=job)
    assert found.steps == (TrimHistory(found.resource, ("sp-0", "sp-1"), dispose=True),)
    assert found.action is Action.NONE
    within = plan_at(app(**{"kubernetes.operator.savepoint.history.max.count": "4"}), 5, job=job)
    assert within.steps == ()
