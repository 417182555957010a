"""Planning a session cluster (a FlinkDeployment without a job) and the session jobs it carries.

Upstream deletes a session cluster on upgrade and kills every session job without a savepoint.
gitflink stops each stateful job with a savepoint, restarts the cluster and resubmits the jobs
from their savepoints, so a cluster change never costs job state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gitflink.core.planning import healing, interrupted, session_rollback
from gitflink.core.planning.facts import Facts
from gitflink.core.planning.restoring import taken
from gitflink.model.diffkind import DiffKind
from gitflink.model.ids import ResourceId
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    JobPlan,
    RecordSpec,
    StartCluster,
    Step,
    StopCluster,
    StopJob,
)
from gitflink.model.resources import UpgradeMode


def plan_cluster(ctx: Facts, jobs: Sequence[Facts]) -> tuple[JobPlan, dict[ResourceId, JobPlan]]:
    """The cluster's plan, and the plans of the session jobs its restart carries along."""
    if ctx.deployed is None:
        return ctx.plan(Action.DEPLOY, (StartCluster(ctx.resource),), diff=DiffClass.NEW), {}
    decided = session_rollback.decide(ctx)
    if isinstance(decided, JobPlan):
        return decided, {}
    if decided is not None:
        return _rolled_back(decided, jobs)
    kind = ctx.kind
    if kind is None:
        return healing.cluster(ctx) or ctx.plan(Action.NONE), {}
    if kind is DiffKind.IGNORE:
        return ctx.plan(Action.NONE, (RecordSpec(ctx.resource),)), {}
    finished = restarted(ctx, jobs)
    if finished is not None:
        return finished, {}
    return restart(ctx, jobs)


def restart(
    ctx: Facts, jobs: Sequence[Facts], action: Action | None = None
) -> tuple[JobPlan, dict[ResourceId, JobPlan]]:
    """Stop the session jobs with savepoints, restart the cluster with `ctx.desired`, resubmit
    them from their savepoints (an upgrade, or `action`)."""
    # A job whose change is in flight is carried too: its stop may have finished it before its
    # savepoint was recorded, and only this cluster (which the plan restarts) knows that savepoint.
    carried = sorted(
        (job for job in jobs if job.wants_running and (job.live_running or job.status.pending)),
        key=lambda job: job.resource,
    )
    stops: list[Step] = []
    submits: list[Step] = []
    risks: list[str] = []
    notes: list[str] = []
    removed = ctx.deployed_job
    if removed is not None and ctx.live_running:
        # An application becomes a session cluster: its job goes, its state kept in a savepoint.
        stateful = removed.upgrade_mode is not UpgradeMode.STATELESS
        stops.append(
            StopJob(ctx.resource, UpgradeMode.SAVEPOINT if stateful else removed.upgrade_mode)
        )
        risks.append(
            "the job is removed from the spec; it stops" + (" with a savepoint" if stateful else "")
        )
    for job in carried:
        stateful = job.mode is not UpgradeMode.STATELESS
        # last-state too: HA metadata and checkpoints go with the cluster, a savepoint stays.
        stops.append(StopJob(job.resource, UpgradeMode.SAVEPOINT if stateful else job.mode))
        submits.append(job.submit(taken() if stateful else None))
    stateless = [job.resource.short for job in carried if job.mode is UpgradeMode.STATELESS]
    kept = [job.resource.short for job in carried if job.mode is not UpgradeMode.STATELESS]
    if kept:
        notes.append(f"session jobs stopped with a savepoint and resubmitted: {', '.join(kept)}")
    if stateless:
        risks.append(f"stateless session jobs restart with empty state: {', '.join(stateless)}")
    restart_only = all(
        change.path == "spec.restartNonce"
        for change in ctx.changes
        if change.kind >= DiffKind.SCALE
    )
    action = action or (Action.RESTART if restart_only else Action.UPGRADE)
    steps = (*stops, StopCluster(ctx.resource), StartCluster(ctx.resource), *submits)
    plan = ctx.plan(
        action,
        steps,
        state_loss=bool(stateless),
        downtime=Downtime.RESTART,
        risks=risks,
        notes=notes,
    )
    return plan, {job.resource: _carried(job, ctx.resource) for job in carried}


def _rolled_back(
    back: session_rollback.RollingBack, jobs: Sequence[Facts]
) -> tuple[JobPlan, dict[ResourceId, JobPlan]]:
    """The cluster restarted with the spec restored and its session jobs resubmitted from the
    savepoints the failed upgrade took (an interrupted rollback: finished)."""
    finished = restarted(back.facts, jobs)
    plan, carried = (
        (finished, {}) if finished is not None else restart(back.facts, jobs, Action.ROLLBACK)
    )
    notes = (*plan.notes, back.note)
    return replace(plan, notes=notes, applies=back.record.spec, rollback=back.record), carried


def restarted(ctx: Facts, jobs: Sequence[Facts]) -> JobPlan | None:
    """An upgrade killed after the cluster came back with the spec it applies and a job was
    resubmitted (only then does a job record a submission): the restart is done. Each job's own
    plan finishes its resubmission (an adopted job is verified); restarting the cluster again
    would stop the new jobs for a second savepoint."""
    pending = ctx.status.pending
    if pending is None or interrupted.moved(ctx, pending):
        return None
    if not any(job.status.pending and job.status.pending.submitted_job_id for job in jobs):
        return None
    note = (
        f"finishes the interrupted {pending.action}: the cluster was restarted and its session "
        "jobs resubmitted before the interruption; each job's plan finishes its own"
    )
    return ctx.plan(pending.action, (RecordSpec(ctx.resource),), notes=(note,))


def _carried(job: Facts, cluster: ResourceId) -> JobPlan:
    """A session job restarted by its cluster's plan: the steps live there, in order."""
    stateful = job.mode is not UpgradeMode.STATELESS
    return job.plan(
        Action.UPGRADE if job.changes else Action.RESTART,
        (),
        mode=UpgradeMode.SAVEPOINT if stateful else job.mode,
        state_loss=not stateful,
        downtime=Downtime.RESTART,
        notes=(f"stopped and resubmitted by the {cluster.short} session cluster plan",),
        carried_by=cluster,
    )
