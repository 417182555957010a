"""An interrupted change (status.pending, the write-ahead record) is finished from what the
record and Flink say now, through ordinary steps: a resumed change passes the same checks (the
restore verification included) as a fresh one, and `gitflink plan` shows it.
"""

from __future__ import annotations

from pydantic import ValidationError

from gitflink.core.planning.facts import Facts
from gitflink.core.planning.restarting import restart
from gitflink.core.planning.restoring import JobUpgrade, at, stopped, taken
from gitflink.model.errors import Next
from gitflink.model.fingerprints import unredact
from gitflink.model.plan import Action, Downtime, JobPlan
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import ConditionStatus, PendingChange, ResourceStatus, SnapshotKind

STALLED = "the interrupted"  # how a stalled change's block reason begins
_REDONE = frozenset({Action.DELETE, Action.SUSPEND})  # replanned as they are: idempotent steps


def resume(facts: Facts) -> JobPlan | None:
    """The plan that finishes the interrupted change; None when nothing was interrupted, or the
    old job still runs (the stop never happened) and the change is planned afresh."""
    status = facts.observed.status
    pending = status.pending if status is not None else None
    if status is None or pending is None or pending.action in _REDONE:
        return None
    if not facts.wants_running:
        return None  # suspended in Git since: the suspend plan stops what runs
    stalled = _stalled(status)
    if stalled is not None and not moved(facts, pending):
        # A human must act (a restore that cannot work, a failed savepoint): the same spec
        # would fail the same way, so nothing is retried until Git changes it.
        reason = stalled
        if not stalled.startswith(STALLED):
            reason = (
                f"{STALLED} {pending.action} stalled: {stalled}; it is not retried until the "
                "spec changes (for example job.allowNonRestoredState)"
            )
        return facts.plan(Action.BLOCKED, blocked=reason)
    action, job = pending.action, facts.observed.job
    restore_path = status.job_status.upgrade_savepoint_path
    submitted = pending.submitted_job_id
    alive = job is not None and not job.is_terminal
    if submitted is not None and alive and job is not None and job.job_id == submitted:
        return _adopt(facts, pending, submitted, restore_path)
    if submitted is None and alive:
        return None  # the old job runs: nothing was stopped yet
    stateful = facts.mode is not UpgradeMode.STATELESS
    recorded = pending.stop_snapshot is not None or restore_path is not None
    finished = job is not None and job.state == "FINISHED"
    if submitted is None and not recorded and stateful and finished:
        # A stop-with-savepoint finished the job before its savepoint was recorded: the
        # stop step finds it again (by its trigger id) instead of taking a second one.
        note = (
            f"resumes the interrupted {action}: the job stopped before its savepoint was "
            "recorded; the stop is finished from what Flink reports"
        )
        decision = JobUpgrade(facts.mode, stop=UpgradeMode.SAVEPOINT, restore=taken())
        return restart(facts, action, decision, notes=(note,))
    if restore_path is not None and stateful:
        note = (
            f"resumes the interrupted {action}: restoring from {restore_path}, which it "
            "recorded; no second savepoint"
        )
        newer = _newer_checkpoint(facts, status, restore_path)
        if newer is not None:
            # Flink subsumes older checkpoints: the one recorded before the cancel may be gone.
            note = (
                f"resumes the interrupted {action}: restoring from {newer}, the newest "
                f"checkpoint of the cancelled job (it completed after {restore_path} was recorded)"
            )
            restore_path = newer
        decision = JobUpgrade(facts.mode, restore=at(restore_path))
        return restart(facts, action, decision, notes=(note,))
    note = f"resumes the interrupted {action}: the job is not running"
    return restart(facts, action, stopped(facts), notes=(note,))


def _newer_checkpoint(facts: Facts, status: ResourceStatus, recorded: str) -> str | None:
    """A last-state stop records the latest checkpoint, then cancels; a checkpoint completing
    meanwhile replaces it in Flink (which keeps only the newest). Killed before recording that
    one, the resumed change restores it, as the stop would have."""
    job, stop = facts.observed.job, status.pending.stop_snapshot if status.pending else None
    if stop is None or stop.kind is not SnapshotKind.CHECKPOINT or job is None:
        return None
    if job.job_id != stop.job_id or not job.is_terminal or not job.latest_checkpoint:
        return None
    return None if job.latest_checkpoint == recorded else job.latest_checkpoint


def _adopt(facts: Facts, pending: PendingChange, job_id: str, restore_path: str | None) -> JobPlan:
    """The job this change submitted runs: verify it (tasks running, the restored path) and
    record the change it belongs to, also when Git moved on meanwhile."""
    git_moved = moved(facts, pending)
    notes = [
        f"finishes the interrupted {pending.action}: job {job_id[:8]} was submitted before "
        "the interruption"
    ]
    if git_moved:
        notes.append("Git changed since: the newer change is planned once this one is verified")
    restore = at(restore_path) if restore_path else None
    return facts.plan(
        pending.action,
        (facts.submit(restore, adopt=job_id),),
        downtime=Downtime.NONE,
        notes=notes,
        applies=pending.target_spec if git_moved else None,
    )


def moved(facts: Facts, pending: PendingChange) -> bool:
    """Does Git now want another spec than the one the interrupted change applies?"""
    desired = facts.desired.spec
    # The record holds fingerprints of secrets: an unchanged secret is no move.
    target = unredact(pending.target_spec, desired.model_dump(by_alias=True, mode="json"))
    try:
        return type(desired).model_validate(target) != desired
    except ValidationError:
        return True


def _stalled(status: ResourceStatus) -> str | None:
    """The error of a change that stalled (Ready False, reason stalled), else None."""
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    if ready is None or ready.status is not ConditionStatus.FALSE or ready.reason != Next.STALL:
        return None
    return status.error or ready.message or "stalled"
