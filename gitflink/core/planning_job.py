"""Planning rules for a job (application FlinkDeployment or FlinkSessionJob) that Git changes.

Follows the Flink Kubernetes Operator, and goes further: state is never dropped silently. A job
whose state cannot be carried gets a BLOCKED plan that says why (docs/planning.md).
"""

from __future__ import annotations

from gitflink.core import planning_restore as restoring
from gitflink.core import planning_scale
from gitflink.core.planning_context import JobContext
from gitflink.model.diffkind import DiffKind
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    JobPlan,
    RecordSpec,
    Rescale,
    StartCluster,
    Step,
    StopCluster,
    StopJob,
    TakeCheckpoint,
    TakeSavepoint,
)
from gitflink.model.resources import UpgradeMode

FLINK_VERSION = "spec.flinkVersion"
RESTART_NONCES = ("spec.restartNonce",)
SAVEPOINT_NONCE = "spec.job.savepointTriggerNonce"
CHECKPOINT_NONCE = "spec.job.checkpointTriggerNonce"


def plan_new(ctx: JobContext) -> JobPlan:
    """First deploy: from initialSavepointPath when set; suspended at first deploy runs nothing."""
    if not ctx.wants_running:
        ctx.notes.append("job.state is suspended: nothing runs until it is set to running")
        return ctx.plan(Action.NONE, (RecordSpec(ctx.resource),), diff=DiffClass.NEW)
    steps: list[Step] = [StartCluster(ctx.resource)] if ctx.is_deployment else []
    steps.append(ctx.submit(restoring.initial(ctx)))
    return ctx.plan(Action.DEPLOY, tuple(steps), diff=DiffClass.NEW)


def plan_existing(ctx: JobContext) -> JobPlan:
    resumed = restoring.resume_interrupted(ctx)
    if resumed is not None:
        return resumed
    if ctx.deployed_job is None:
        return _job_added(ctx)
    if ctx.was_running and not ctx.wants_running:
        return _suspend(ctx)
    if not ctx.was_running and ctx.wants_running:
        return _resume(ctx)
    if not ctx.wants_running:
        if ctx.changes:
            ctx.notes.append("suspended: the change is recorded and applied on resume")
            return ctx.plan(Action.NONE, (RecordSpec(ctx.resource),))
        return ctx.plan(Action.NONE)
    return _running_to_running(ctx)


def _job_added(ctx: JobContext) -> JobPlan:
    """A session cluster becomes an application: its cluster restarts, the job starts fresh."""
    if not ctx.wants_running:
        return ctx.plan(Action.NONE, (RecordSpec(ctx.resource),))
    ctx.risks.append("the session cluster restarts: jobs submitted to it outside gitflink stop")
    steps = (
        StopCluster(ctx.resource),
        StartCluster(ctx.resource),
        ctx.submit(restoring.initial(ctx)),
    )
    return ctx.plan(Action.UPGRADE, steps, downtime=Downtime.RESTART)


def _running_to_running(ctx: JobContext) -> JobPlan:
    kind = ctx.kind
    if kind is None:
        if not ctx.live_running and ctx.observed.job is not None:
            ctx.notes.append(f"job is {ctx.observed.job.state}, not running")
        return ctx.plan(Action.NONE)
    if kind is DiffKind.SAVEPOINT_REDEPLOY:
        return _redeploy(ctx)
    if kind is DiffKind.UPGRADE:
        upgrades = [c.path for c in ctx.changes if c.kind is DiffKind.UPGRADE]
        only_restart = all(path in RESTART_NONCES for path in upgrades)
        return upgrade(ctx, Action.RESTART if only_restart else Action.UPGRADE)
    if kind is DiffKind.SCALE:
        return _scale(ctx)
    return _ignore_only(ctx)


def _ignore_only(ctx: JobContext) -> JobPlan:
    """IGNORE-only: no restart, recorded as applied; trigger nonces take a snapshot only."""
    snapshot = _triggered_snapshots(ctx)
    if snapshot and ctx.live_running:
        action = Action.SAVEPOINT if isinstance(snapshot[0], TakeSavepoint) else Action.CHECKPOINT
        return ctx.plan(action, (*snapshot, RecordSpec(ctx.resource)))
    if snapshot:
        ctx.risks.append("the job is not running: the requested snapshot cannot be taken")
    return ctx.plan(Action.NONE, (RecordSpec(ctx.resource),))


def _triggered_snapshots(ctx: JobContext) -> tuple[Step, ...]:
    steps: list[Step] = []
    if ctx.nonce_set(SAVEPOINT_NONCE):
        steps.append(TakeSavepoint(ctx.resource))
    if ctx.nonce_set(CHECKPOINT_NONCE):
        steps.append(TakeCheckpoint(ctx.resource))
    return tuple(steps)


def _scale(ctx: JobContext) -> JobPlan:
    """In place when Flink can do it without losing state; otherwise a full upgrade."""
    found = planning_scale.in_place(ctx, checkpoint_first=ctx.nonce_set(CHECKPOINT_NONCE))
    if isinstance(found, planning_scale.Refusal):
        (ctx.risks if found.state else ctx.notes).append(f"rescale by restart: {found.reason}")
        return upgrade(ctx, Action.SCALE)
    rescales = any(isinstance(step, Rescale) for step in found)
    return ctx.plan(
        Action.SCALE,
        (*_triggered_snapshots(ctx), *found),
        downtime=Downtime.RESCALE if rescales else Downtime.NONE,
    )


def upgrade(ctx: JobContext, action: Action) -> JobPlan:
    """Stop per upgradeMode and restore: the heart of every restarting change."""
    if not ctx.live_running:
        return restoring.start_from_known(ctx, action)
    mode = ctx.mode
    if mode is UpgradeMode.LAST_STATE and ctx.changed(FLINK_VERSION):
        # HA metadata and checkpoints may not carry across Flink versions.
        ctx.risks.append("flinkVersion changes: a savepoint is taken instead of last-state")
        mode = UpgradeMode.SAVEPOINT
    if mode is UpgradeMode.STATELESS:
        ctx.risks.append("upgradeMode is stateless: the job restarts with empty state")
    restore = None if mode is UpgradeMode.STATELESS else restoring.taken()
    steps: list[Step] = [*_snapshots_unless(ctx, mode), StopJob(ctx.resource, mode)]
    steps += ctx.cluster_restart()
    steps.append(ctx.submit(restore))
    return ctx.plan(
        action,
        tuple(steps),
        mode=mode,
        state_loss=mode is UpgradeMode.STATELESS,
        downtime=Downtime.RESTART,
    )


def _snapshots_unless(ctx: JobContext, mode: UpgradeMode) -> tuple[Step, ...]:
    """A requested savepoint is already covered by a stop-with-savepoint."""
    return tuple(
        step
        for step in _triggered_snapshots(ctx)
        if not (isinstance(step, TakeSavepoint) and mode is UpgradeMode.SAVEPOINT)
    )


def _redeploy(ctx: JobContext) -> JobPlan:
    """savepointRedeployNonce: drop the current state on purpose, start from the given path."""
    path = ctx.job.initial_savepoint_path if ctx.job else None
    if not path:
        reason = "savepointRedeployNonce changed but job.initialSavepointPath is empty"
        return ctx.plan(Action.BLOCKED, blocked=reason)
    ctx.risks.append(f"the current state is discarded in favour of the savepoint {path}")
    stop: list[Step] = [StopJob(ctx.resource, UpgradeMode.STATELESS)] if ctx.live_running else []
    restart = ctx.cluster_restart() if ctx.live_running else ctx.cluster_start()
    steps = (*stop, *restart, ctx.submit(restoring.at(path)))
    return ctx.plan(Action.REDEPLOY, steps, downtime=Downtime.RESTART)


def _suspend(ctx: JobContext) -> JobPlan:
    mode = ctx.mode
    steps: list[Step] = []
    if ctx.live_running:
        if mode is UpgradeMode.STATELESS:
            ctx.risks.append("upgradeMode is stateless: state is discarded; resume starts empty")
        steps.append(StopJob(ctx.resource, mode))
    else:
        ctx.notes.append("the job is not running: nothing to stop")
    if ctx.is_deployment and (ctx.live_running or ctx.observed.cluster_running):
        steps.append(StopCluster(ctx.resource))
    if ctx.changes:
        ctx.notes.append("other changes are recorded and applied on resume")
    return ctx.plan(
        Action.SUSPEND,
        tuple(steps) or (RecordSpec(ctx.resource),),
        state_loss=ctx.live_running and mode is UpgradeMode.STATELESS,
        downtime=Downtime.RESTART if ctx.live_running else Downtime.NONE,
    )


def _resume(ctx: JobContext) -> JobPlan:
    found = restoring.recorded(ctx)
    if found is None:
        return restoring.manual_restore(ctx, Action.RESUME)
    restore, mode = found
    steps = (*ctx.cluster_start(), ctx.submit(restore))
    return ctx.plan(Action.RESUME, steps, mode=mode, state_loss=mode is UpgradeMode.STATELESS)
