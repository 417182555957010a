"""A JobManager that restarted without HA (its pod killed, rescheduled) starts its job again
from the restore path of its last start (`execution.savepoint.path`), under the same job id:
the state since then regresses silently. Flink's `start-time` says so: newer than the one
recorded when gitflink verified the run. The job is redeployed from the newest savepoint or
checkpoint the previous run left, else the regression is reported (docs/recovery.md).

With HA the new JobManager takes the job back from its newest checkpoint itself: not flagged.
A start gitflink makes records its own start time (wait_running), so it is never flagged.
"""

from __future__ import annotations

from gitflink.core.planning.facts import Facts
from gitflink.core.planning.restoring import at
from gitflink.core.validation import ha_enabled
from gitflink.model.flinkconf import flatten_configuration
from gitflink.model.plan import Action, Downtime, JobPlan, StopJob
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import Snapshot, SnapshotKind

__all__ = ["converge", "regressed"]


def regressed(facts: Facts) -> str | None:
    """Why the running job is a start gitflink did not make (the drift), else None."""
    job, recorded = facts.observed.job, facts.status.job_status
    if not facts.is_deployment or job is None or job.is_terminal or job.job_id != recorded.job_id:
        return None
    before, now = recorded.flink_start_time, job.start_time
    if before is None or now is None or now <= before or facts.status.pending is not None:
        return None
    if ha_enabled(flatten_configuration(dict(facts.spec.flink_configuration))):
        return None
    origin = recorded.restored_from.path if recorded.restored_from else "empty state"
    return (
        f"the JobManager restarted without HA and started job {job.job_id} again from "
        f"{origin} at {now.isoformat()} (the run gitflink started began {before.isoformat()}): "
        "the state since then is missing from the new run"
    )


def converge(facts: Facts, drift: str) -> JobPlan:
    """Cancel the regressed run and start the job from the newest state of the previous one;
    report only when the job is stateless, not running yet, or no newer state is known."""
    job = facts.observed.job
    assert job is not None
    if not job.is_running:
        note = f"job is {job.state}: it is redeployed once it runs"
        return facts.plan(Action.NONE, notes=(note,), drift=drift)
    if facts.mode is UpgradeMode.STATELESS:
        note = "upgradeMode is stateless: no state to bring back, the job runs on"
        return facts.plan(Action.NONE, notes=(note,), drift=drift)
    newest = previous_state(facts)
    if newest is None:
        note = (
            "no savepoint or checkpoint of the previous run is known: the job runs on from "
            "where it started again (record newer state with "
            "kubernetes.operator.periodic.savepoint.interval, or use HA)"
        )
        return facts.plan(Action.NONE, notes=(note,), drift=drift)
    # The regressed run replays from an older point input the previous run had processed, and
    # the newer state's source positions replay the rest: cancelling it loses nothing.
    steps = (
        StopJob(facts.resource, UpgradeMode.STATELESS, restore_next=newest.path),
        facts.submit(at(newest.path)),
    )
    risks: tuple[str, ...] = ()
    if newest.kind is SnapshotKind.CHECKPOINT:
        risks = (
            f"{newest.path} is a checkpoint: if Flink subsumed it since, its restore fails and "
            "the change stops for a human (nothing starts empty)",
        )
    return facts.plan(
        Action.RECOVER,
        steps,
        mode=UpgradeMode.LAST_STATE if newest.kind is SnapshotKind.CHECKPOINT else facts.mode,
        downtime=Downtime.RESTART,
        risks=risks,
        notes=(f"redeployed from {newest.path}, the newest state of the previous run",),
        drift=drift,
    )


def previous_state(facts: Facts) -> Snapshot | None:
    """The newest savepoint or checkpoint recorded of the run gitflink started: of its job id,
    taken after gitflink verified it (`start_time`, gitflink's clock as `taken_at`)."""
    recorded = facts.status.job_status
    since = recorded.start_time
    found = [
        (snapshot.taken_at, snapshot)
        for snapshot in (recorded.last_savepoint, recorded.last_checkpoint)
        if snapshot is not None
        and snapshot.job_id == recorded.job_id
        and snapshot.taken_at is not None
        and (since is None or snapshot.taken_at >= since)
    ]
    return max(found, key=lambda pair: pair[0])[1] if found else None
