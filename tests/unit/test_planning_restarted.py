"""A JobManager restarted without HA, as pure planning: flagged only for an application whose
Flink start time is newer than the one recorded, without HA and with no change in flight; the
state chosen is the newest of the previous run (its job id, taken after it was verified)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support.planning_builders import Record, deployment, status

from gitflink.core import planning
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import Action, JobPlan, StopJob, SubmitJob
from gitflink.model.resources import FlinkDeployment, UpgradeMode
from gitflink.model.status import JobStatus, PendingChange, Snapshot, SnapshotKind

VERIFIED = datetime(2026, 1, 1, tzinfo=UTC)  # gitflink's clock when it verified the run
STARTED = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(seconds=5)  # Flink's start-time
AGAIN = STARTED + timedelta(hours=1)


def snapshot(path: str, minutes: float, kind: str = "savepoint", job: str = "j1") -> Snapshot:
    taken = VERIFIED + timedelta(minutes=minutes)
    return Snapshot(path=path, kind=SnapshotKind(kind), taken_at=taken, job_id=job)


def plan(
    *,
    desired: FlinkDeployment | None = None,
    started: datetime = AGAIN,
    pending: PendingChange | None = None,
    **job: Any,
) -> JobPlan:
    desired = desired or deployment()
    recorded = JobStatus(job_id="j1", start_time=VERIFIED, flink_start_time=STARTED, **job)
    seen = status(desired, job_status=recorded, pending=pending)
    live = LiveJob("j1", "RUNNING", all_vertices_running=True, start_time=started)
    observed = Observed(seen, cluster_running=True, job=live)
    (found,) = planning.plan_changes([Record(desired)], {desired.id: observed}).jobs
    return found


def test_the_newest_state_of_the_previous_run_is_restored_after_cancelling_the_new_run() -> None:
    found = plan(
        last_savepoint=snapshot("/sp-1", 10),
        last_checkpoint=snapshot("/chk-7", 20, "checkpoint"),
    )
    assert found.action is Action.RECOVER
    stop, submit = found.steps
    assert stop == StopJob(found.resource, UpgradeMode.STATELESS, restore_next="/chk-7")
    assert isinstance(submit, SubmitJob) and submit.restore is not None
    assert submit.restore.path == "/chk-7" and found.upgrade_mode is UpgradeMode.LAST_STATE
    assert any("subsumed" in risk for risk in found.risks)
    assert found.drift is not None and "again from empty state" in found.drift


def test_state_of_an_earlier_job_or_from_before_the_run_is_not_newer() -> None:
    found = plan(
        last_savepoint=snapshot("/sp-0", -10),  # taken before this run was verified
        last_checkpoint=snapshot("/chk-3", 5, "checkpoint", job="j0"),  # another job's
        restored_from=snapshot("/sp-0", 0),
    )
    assert found.action is Action.NONE and found.steps == ()
    assert found.drift is not None and "again from /sp-0" in found.drift


def test_the_same_start_time_is_the_run_gitflink_started() -> None:
    assert plan(started=STARTED, last_savepoint=snapshot("/sp-1", 10)).drift is None


def test_with_ha_nothing_is_flagged() -> None:
    desired = deployment()
    desired.spec.flink_configuration["high-availability.type"] = "kubernetes"
    assert plan(desired=desired, last_savepoint=snapshot("/sp-1", 10)).drift is None


def test_a_change_in_flight_is_resumed_not_flagged() -> None:
    pending = PendingChange(action=Action.UPGRADE, target_spec={})
    found = plan(last_savepoint=snapshot("/sp-1", 10), pending=pending)
    assert found.drift is None
