"""Where a job's state comes back from: recorded savepoints and checkpoints, and resuming a plan
that a crash or restart interrupted (the status is the write-ahead log)."""

from __future__ import annotations

from gitflink.core.planning_context import JobContext
from gitflink.model.observed import Observed
from gitflink.model.plan import Action, Downtime, JobPlan, RecordSpec, Restore, RestoreSource
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import LifecycleState, ReconciliationState, ResourceStatus, Snapshot

Found = tuple[Restore | None, UpgradeMode]


def at(path: str) -> Restore:
    return Restore(RestoreSource.PATH, path)


def taken() -> Restore:
    """The savepoint or checkpoint this plan's StopJob step records."""
    return Restore(RestoreSource.TAKEN)


def initial(ctx: JobContext) -> Restore | None:
    path = ctx.job.initial_savepoint_path if ctx.job else None
    return at(path) if path else None


def _checkpoint(ctx: JobContext) -> str | None:
    live = ctx.observed.job.latest_checkpoint if ctx.observed.job else None
    recorded = ctx.status.job_status.last_checkpoint
    return live or (recorded.path if recorded else None)


def known(ctx: JobContext) -> Found | None:
    """The job is not running: what it can restart from. None when nothing is known."""
    mode = ctx.mode
    if mode is UpgradeMode.STATELESS:
        return None, mode
    job_status = ctx.status.job_status
    if job_status.upgrade_savepoint_path:
        return at(job_status.upgrade_savepoint_path), mode
    checkpoint = _checkpoint(ctx)
    if checkpoint:
        if mode is UpgradeMode.SAVEPOINT:
            ctx.risks.append(
                "the job is not running, so no savepoint can be taken: "
                f"falling back to last-state from checkpoint {checkpoint}"
            )
        return at(checkpoint), UpgradeMode.LAST_STATE
    if job_status.last_savepoint:
        ctx.risks.append(
            f"restoring from the last savepoint {job_status.last_savepoint.path}: "
            "progress since then is replayed from the sources"
        )
        return at(job_status.last_savepoint.path), mode
    return None


def recorded(ctx: JobContext) -> Found | None:
    """Resume from suspended: the savepoint or checkpoint recorded when it was suspended."""
    mode = ctx.mode
    if mode is UpgradeMode.STATELESS:
        return None, mode
    job_status = ctx.status.job_status
    if job_status.upgrade_savepoint_path:
        return at(job_status.upgrade_savepoint_path), mode
    savepoint, checkpoint = job_status.last_savepoint, job_status.last_checkpoint
    if mode is UpgradeMode.SAVEPOINT:
        if savepoint:
            return at(savepoint.path), mode
        if checkpoint:
            ctx.risks.append(
                f"no savepoint recorded: falling back to last-state from {checkpoint.path}"
            )
            return at(checkpoint.path), UpgradeMode.LAST_STATE
        return None
    newest = _newest(savepoint, checkpoint)
    return (at(newest.path), mode) if newest else None


def _newest(*snapshots: Snapshot | None) -> Snapshot | None:
    present = [s for s in snapshots if s is not None]
    if not present:
        return None
    dated = [s for s in present if s.taken_at is not None]
    if len(dated) == len(present):
        return max(dated, key=lambda s: s.taken_at or 0)
    return present[-1]  # undated: prefer the checkpoint, usually the more recent


def manual_restore(ctx: JobContext, action: Action) -> JobPlan:
    reason = (
        "manual restore required: the job is not running and no savepoint or checkpoint is "
        f"known, and {ctx.mode} mode never falls back to stateless. Set job.initialSavepointPath "
        "and change job.savepointRedeployNonce to choose a savepoint, or set upgradeMode: "
        "stateless to start with empty state"
    )
    ctx.notes.append(f"{action} cannot proceed")
    return ctx.plan(Action.BLOCKED, blocked=reason)


def new_job_started(status: ResourceStatus | None, observed: Observed) -> bool:
    """Is the running job the one an interrupted plan submitted (so its target spec runs)?"""
    if status is None or status.pending is None or observed.job is None:
        return False
    if not observed.job.is_running:
        return False
    savepoint = status.job_status.upgrade_savepoint_path
    if savepoint and observed.job.restored_from == savepoint:
        return True
    return any("submit" in step.lower() for step in status.pending.completed_steps)


def resume_interrupted(ctx: JobContext) -> JobPlan | None:
    """An interrupted plan (status.pending) is finished from what status and Flink say now.
    None: nothing was interrupted, or the job runs the target spec and is planned as usual."""
    status = ctx.observed.status
    if status is None or status.pending is None:
        return None
    action = _action(status.pending.action)
    job = ctx.observed.job
    if ctx.live_running and job is not None:
        if not new_job_started(status, ctx.observed):
            return None  # the old job still runs: the stop never happened; plan afresh
        if not job.all_vertices_running:
            ctx.notes.append(f"the interrupted {action} is finishing: waiting for tasks to run")
            return ctx.plan(Action.NONE)
        if ctx.changes:
            return None  # Git moved on: planned as usual against the spec that now runs
        ctx.notes.append(f"completes the interrupted {action}: the new job runs the target spec")
        return ctx.plan(action, (RecordSpec(ctx.resource),))
    if not ctx.wants_running:
        return None
    savepoint = status.job_status.upgrade_savepoint_path
    upgrading = (
        status.lifecycle_state is LifecycleState.UPGRADING
        or status.reconciliation.state is ReconciliationState.UPGRADING
    )
    if savepoint and upgrading:
        ctx.notes.append(
            f"resumes the interrupted {action}: restoring from the savepoint it recorded, "
            "no second savepoint"
        )
        steps = (*ctx.cluster_start(), ctx.submit(at(savepoint)))
        return ctx.plan(action, steps, downtime=Downtime.RESTART)
    note = f"resumes the interrupted {action}: the job is not running"
    return start_from_known(ctx, action, note=note)


def start_from_known(ctx: JobContext, action: Action, *, note: str | None = None) -> JobPlan:
    """The job is not running: nothing to stop and no savepoint to take; restart it from what
    is known, or stop the plan for a human (never silently empty)."""
    found = known(ctx)
    if found is None:
        return manual_restore(ctx, action)
    restore, mode = found
    if note:
        ctx.notes.append(note)
    if mode is UpgradeMode.STATELESS:
        ctx.risks.append("upgradeMode is stateless: the job starts with empty state")
    steps = (*ctx.cluster_start(), ctx.submit(restore))
    return ctx.plan(
        action,
        steps,
        mode=mode,
        state_loss=mode is UpgradeMode.STATELESS,
        downtime=Downtime.RESTART,
    )


def _action(text: str) -> Action:
    try:
        return Action(text)
    except ValueError:
        return Action.UPGRADE
