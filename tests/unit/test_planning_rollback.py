"""Rollback planning (docs/rollback.md): a failing change is rolled back to the last stable spec
from the savepoint it started from; Git's rejected spec is not tried again, the next one is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support.planning_builders import Record, deployment, status

from gitflink.core import planning
from gitflink.core.planning import Healing
from gitflink.core.restore_points import savepoint_for
from gitflink.model.fingerprints import scrub, spec_digest
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import (
    Action,
    JobPlan,
    RecordSpec,
    Restore,
    RestoreSource,
    StartCluster,
    StopCluster,
    StopJob,
    SubmitJob,
)
from gitflink.model.resources import FlinkDeployment, UpgradeMode
from gitflink.model.rollback import Rollback, duration_seconds
from gitflink.model.status import (
    HistoryEntry,
    JobStatus,
    LifecycleState,
    PendingChange,
    ResourceStatus,
    Snapshot,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ON = {"kubernetes.operator.deployment.rollback.enabled": "true"}
SAVEPOINT = "file:///sp/savepoint-1"


def app(conf: dict[str, str] | None = None, **job: Any) -> FlinkDeployment:
    resource = deployment("savepoint", **job)
    spec = resource.spec.model_copy(update={"flink_configuration": dict(conf or {})})
    return resource.model_copy(update={"spec": spec})


def spec_of(resource: FlinkDeployment) -> dict[str, Any]:
    spec: dict[str, Any] = resource.to_manifest()["spec"]
    return spec


def plan_one(desired: FlinkDeployment, observed: Observed, **healing: Any) -> JobPlan:
    policy = Healing(now=NOW, **healing)
    plan = planning.plan_changes([Record(desired)], {desired.id: observed}, healing=policy)
    (job,) = plan.jobs
    return job


def watched(stable: FlinkDeployment, upgraded: FlinkDeployment) -> ResourceStatus:
    """An upgrade verified, not yet stable: lifecycle DEPLOYED, the stable spec kept."""
    found = status(upgraded, lifecycle_state=LifecycleState.DEPLOYED)
    found.reconciliation.last_stable_spec = spec_of(stable)
    found.reconciliation.last_stable_revision = "a" * 40
    found.reconciliation.upgrade_snapshot = Snapshot(path=SAVEPOINT)
    found.applied_revision = "b" * 40
    found.job_status = JobStatus(job_id="j2", state="RUNNING")
    return found


def test_a_watched_upgrade_whose_job_fails_is_rolled_back_from_its_savepoint() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    failed = LiveJob("j2", "FAILED", failure="boom")
    job = plan_one(bad, Observed(watched(stable, bad), cluster_running=True, job=failed))
    assert job.action is Action.ROLLBACK
    assert job.steps == (
        StopCluster(job.resource),
        StartCluster(job.resource),
        SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT)),
    )
    assert isinstance(job.desired, FlinkDeployment) and job.desired.spec == stable.spec
    record = job.rollback
    assert record is not None and record.git_digest == spec_digest(spec_of(bad))
    assert record.to_revision == "a" * 40 and record.git_revision == "b" * 40
    assert record.restore_point == SAVEPOINT and "boom" in record.reason
    assert job.applies == spec_of(stable)


def test_a_watched_job_restarting_repeatedly_is_rolled_back_and_a_running_one_stopped() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    flapping = LiveJob("j2", "RUNNING", all_vertices_running=True, restarts=2)
    job = plan_one(bad, Observed(watched(stable, bad), cluster_running=True, job=flapping))
    assert job.action is Action.ROLLBACK
    assert job.steps[0] == StopJob(job.resource, UpgradeMode.STATELESS)
    once = LiveJob("j2", "RUNNING", all_vertices_running=True, restarts=1)
    kept = plan_one(bad, Observed(watched(stable, bad), cluster_running=True, job=once))
    assert kept.action is Action.NONE


def test_without_rollback_enabled_a_failed_job_is_only_reported() -> None:
    stable, bad = app(), app(args=["--v2"])
    failed = LiveJob("j2", "FAILED", failure="boom")
    job = plan_one(bad, Observed(watched(stable, bad), cluster_running=True, job=failed))
    assert job.action is Action.NONE and job.drift is not None and "FAILED" in job.drift


def pending_upgrade(stable: FlinkDeployment, bad: FlinkDeployment, started: datetime) -> Any:
    found = status(stable, lifecycle_state=LifecycleState.UPGRADING)
    found.reconciliation.last_stable_spec = spec_of(stable)
    found.reconciliation.last_stable_revision = "a" * 40
    found.job_status = JobStatus(job_id="j2", upgrade_savepoint_path=SAVEPOINT)
    found.pending = PendingChange(
        action=Action.UPGRADE,
        revision="b" * 40,
        target_spec=spec_of(bad),
        started_at=started,
        submitted_job_id="j2",
    )
    return found


def test_an_upgrade_not_ready_within_the_readiness_timeout_is_rolled_back() -> None:
    conf = {**ON, "kubernetes.operator.deployment.readiness.timeout": "20 s"}
    stable, bad = app(conf), app(conf, args=["--v2"])
    restarting = LiveJob("j2", "RESTARTING")
    late = pending_upgrade(stable, bad, NOW - timedelta(seconds=21))
    job = plan_one(bad, Observed(late, cluster_running=True, job=restarting))
    assert job.action is Action.ROLLBACK, job
    assert job.steps[0] == StopJob(job.resource, UpgradeMode.STATELESS)
    assert job.steps[-1] == SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT))
    assert job.rollback is not None and "within 20s" in job.rollback.reason
    early = pending_upgrade(stable, bad, NOW - timedelta(seconds=19))
    waiting = plan_one(bad, Observed(early, cluster_running=True, job=restarting))
    assert waiting.action is Action.UPGRADE  # still within its timeout: adopted and awaited


def test_without_rollback_a_late_upgrade_is_reported_and_its_savepoint_kept() -> None:
    stable, bad = app(), app(args=["--v2"])
    late = pending_upgrade(stable, bad, NOW - timedelta(seconds=301))
    job = plan_one(bad, Observed(late, cluster_running=True, job=LiveJob("j2", "RESTARTING")))
    assert job.action is Action.BLOCKED and job.blocked is not None
    assert f"its restore point {SAVEPOINT} is kept" in job.blocked
    assert "rollback.enabled is not true" in job.blocked


def test_a_newer_commit_replaces_a_failing_upgrade_from_its_restore_point() -> None:
    stable, bad, fix = app(), app(args=["--v2"]), app(args=["--v3"])
    late = pending_upgrade(stable, bad, NOW - timedelta(seconds=301))
    job = plan_one(fix, Observed(late, cluster_running=True, job=LiveJob("j2", "RESTARTING")))
    assert job.action is Action.UPGRADE
    assert job.steps[0] == StopJob(job.resource, UpgradeMode.STATELESS)
    assert job.steps[-1] == SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT))
    assert isinstance(job.desired, FlinkDeployment) and job.desired.spec == fix.spec


def rolled_back(stable: FlinkDeployment, bad: FlinkDeployment) -> ResourceStatus:
    found = status(stable, lifecycle_state=LifecycleState.ROLLED_BACK)
    found.job_status = JobStatus(
        job_id="j3", state="RUNNING", last_savepoint=Snapshot(path=SAVEPOINT)
    )
    found.reconciliation.rollback = Rollback(
        git_digest=spec_digest(spec_of(bad)),
        git_revision="b" * 40,
        reason="the change to revision bbbbbbbb failed",
        to_revision="a" * 40,
        spec=spec_of(stable),
        restore_point=SAVEPOINT,
    )
    return found


def test_the_rejected_spec_is_not_tried_again_and_the_next_commit_is() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    running = LiveJob("j3", "RUNNING", all_vertices_running=True)
    seen = Observed(rolled_back(stable, bad), cluster_running=True, job=running)
    kept = plan_one(bad, seen)
    assert kept.action is Action.NONE and kept.steps == ()
    said = " ".join(kept.notes)
    assert "ROLLED_BACK" in said and "not tried again" in said and "next commit" in said
    fixed = plan_one(app(ON, args=["--v3"]), seen)
    assert fixed.action is Action.UPGRADE
    assert "so it is applied" in " ".join(fixed.notes)
    assert fixed.rollback is None  # applying it clears the record


def test_a_rolled_back_job_lost_later_is_recovered_with_the_rolled_back_spec() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    seen = Observed(rolled_back(stable, bad), cluster_running=False)
    job = plan_one(bad, seen)
    assert job.action is Action.RECOVER, job.blocked
    assert job.steps[-1] == SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT))
    assert isinstance(job.desired, FlinkDeployment) and job.desired.spec == stable.spec
    assert job.rollback is not None  # still held


def test_git_reverted_to_the_rolled_back_spec_clears_the_rollback() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    running = LiveJob("j3", "RUNNING", all_vertices_running=True)
    job = plan_one(stable, Observed(rolled_back(stable, bad), cluster_running=True, job=running))
    assert job.action is Action.NONE and job.steps == (RecordSpec(job.resource),)
    assert job.rollback is None


def test_a_requested_rollback_is_planned_until_it_is_applied() -> None:
    current, earlier = app(args=["--v2"]), app()
    pinned = status(current, lifecycle_state=LifecycleState.STABLE)
    pinned.job_status = JobStatus(job_id="j2", state="RUNNING")
    pinned.reconciliation.rollback = Rollback(
        git_digest=spec_digest(spec_of(current)),
        reason="gitflink rollback --to aaaaaaa",
        manual=True,
        to_revision="a" * 40,
        spec=spec_of(earlier),
        restore_point=SAVEPOINT,
    )
    running = LiveJob("j2", "RUNNING", all_vertices_running=True)
    job = plan_one(current, Observed(pinned, cluster_running=True, job=running))
    assert job.action is Action.ROLLBACK
    assert job.steps[0] == StopJob(job.resource, UpgradeMode.STATELESS)
    assert job.steps[-1] == SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT))


def test_flink_durations() -> None:
    assert duration_seconds("5 min") == 300.0
    assert duration_seconds("20s") == 20.0
    assert duration_seconds("300000") == 300.0  # milliseconds, as Flink reads it
    assert duration_seconds("soon") is None


def test_the_savepoint_of_a_revision_is_found_in_the_lineage() -> None:
    older = Snapshot(path="file:///sp/1", revision="a" * 40, taken_at=NOW)
    newer = Snapshot(path="file:///sp/2", revision="a" * 40, taken_at=NOW + timedelta(1))
    other = Snapshot(path="file:///sp/3", revision="c" * 40, taken_at=NOW + timedelta(2))
    found = ResourceStatus(job_status=JobStatus(savepoint_history=[older, newer, other]))
    assert savepoint_for(found, "aaaaaaa") == newer
    assert savepoint_for(found, "a" * 40) == newer
    assert savepoint_for(found, "dddddddd") is None
    history = [
        HistoryEntry(revision="e" * 40, action="upgrade", savepoint="file:///sp/4"),
        HistoryEntry(revision="d" * 40, action="deploy"),
    ]
    assert savepoint_for(ResourceStatus(history=history), "d" * 40) == Snapshot(
        path="file:///sp/4", revision="d" * 40
    )


def test_an_interrupted_rollback_verifies_the_job_it_submitted_instead_of_a_second() -> None:
    stable, bad = app(ON), app(ON, args=["--v2"])
    found = rolled_back(stable, bad)
    found.lifecycle_state = LifecycleState.ROLLING_BACK
    found.pending = PendingChange(
        action=Action.ROLLBACK, target_spec=spec_of(stable), submitted_job_id="j4"
    )
    running = LiveJob("j4", "RUNNING", all_vertices_running=True)
    job = plan_one(bad, Observed(found, cluster_running=True, job=running))
    assert job.action is Action.ROLLBACK
    assert job.steps == (
        SubmitJob(job.resource, Restore(RestoreSource.PATH, SAVEPOINT), adopt="j4"),
    )
    gone = plan_one(bad, Observed(found, cluster_running=True, job=LiveJob("j4", "FAILED")))
    assert gone.steps[-1] == SubmitJob(gone.resource, Restore(RestoreSource.PATH, SAVEPOINT))


def test_a_spec_whose_secret_git_no_longer_has_is_not_rolled_back_to() -> None:
    stable, bad = app({**ON, "db.password": "s3cret-old"}), app({**ON, "db.password": "new"})
    found = watched(stable, bad)
    assert found.reconciliation.last_stable_spec is not None
    stored = scrub(found.reconciliation.last_stable_spec)  # as status documents keep it
    found.reconciliation.last_stable_spec = stored
    failed = LiveJob("j2", "FAILED", failure="boom")
    job = plan_one(bad, Observed(found, cluster_running=True, job=failed))
    assert job.action is Action.BLOCKED and job.blocked is not None
    assert "secret that Git no longer has" in job.blocked and "s3cret" not in job.blocked


def test_a_watched_change_carries_its_readiness_timeout_for_its_waits() -> None:
    """The submission's wait gives up at the readiness deadline (runtime.flinkjobs): the plan
    says how long, per resource, else GITFLINK_READINESS_TIMEOUT; other plans carry none."""
    conf = {**ON, "kubernetes.operator.deployment.readiness.timeout": "20 s"}
    running = LiveJob("j1", "RUNNING", all_vertices_running=True)
    current = app(conf)
    seen = Observed(status(current), cluster_running=True, job=running)
    upgrade = plan_one(app(conf, args=["--v2"]), seen)
    assert upgrade.action is Action.UPGRADE and upgrade.ready_within == 20.0
    default = app(ON)
    seen = Observed(status(default), cluster_running=True, job=running)
    upgraded = plan_one(app(ON, args=["--v2"]), seen, readiness_timeout=45.0)
    assert upgraded.action is Action.UPGRADE and upgraded.ready_within == 45.0
    quiet = plan_one(current, Observed(status(current), cluster_running=True, job=running))
    assert quiet.action is Action.NONE and quiet.ready_within is None
    late = pending_upgrade(app(conf), app(conf, args=["--v2"]), NOW - timedelta(seconds=21))
    restarting = LiveJob("j2", "RESTARTING")
    rolled = plan_one(
        app(conf, args=["--v2"]), Observed(late, cluster_running=True, job=restarting)
    )
    assert rolled.action is Action.ROLLBACK and rolled.ready_within is None  # waits its own time
    # The timeout counts from the job's submission: a slow stop before it does not count.
    assert late.pending is not None
    late.pending.submitted_at = NOW - timedelta(seconds=5)
    seen = Observed(late, cluster_running=True, job=restarting)
    fresh = plan_one(app(conf, args=["--v2"]), seen)
    assert fresh.action is Action.UPGRADE and fresh.ready_within == 20.0
