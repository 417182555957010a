"""Runs one resource's JobPlan through the ports, keeping the status as a write-ahead log.

Rules (docs/executor.md): the intent is saved before the first step that changes anything;
every snapshot is saved before the next step, a job's generation before its submission; each
handler is idempotent; success is declared only after Flink shows it (all vertices RUNNING, the
restored path equal to the one recorded). Everything else is reported by runtime.recording.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from gitflink.model.errors import GitflinkError, Next, NotLeader, NotReady
from gitflink.model.fingerprints import unredact
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import (
    Action,
    AwaitJob,
    DisposeSnapshot,
    JobPlan,
    RecordSpec,
    Rescale,
    StartCluster,
    Step,
    StopCluster,
    StopJob,
    SubmitJob,
    TakeCheckpoint,
    TakeSavepoint,
    TrimHistory,
    describe,
)
from gitflink.model.status import (
    LifecycleState,
    PendingChange,
    ReconciliationState,
    ResourceStatus,
    SnapshotState,
    SnapshotStatus,
    StepOutcome,
)
from gitflink.ports import Ports
from gitflink.runtime import clusters, disposing, snapshots, stopping, submitting
from gitflink.runtime.context import StepContext, Timeouts
from gitflink.runtime.progress import Progress, SilentProgress

log = logging.getLogger(__name__)

# Steps that change what runs: the intent must be durable before the first of them.
DESTRUCTIVE = (StartCluster, StopCluster, StopJob, SubmitJob, Rescale)


@dataclass(frozen=True, slots=True)
class Execution:
    """What running one resource's plan did. `status` is the working status after the steps
    (the write-ahead fields as saved, plus what handlers learnt); the pass's one writer
    (runtime.recording) turns it into the status to keep. `carried`: the same for each
    resource whose steps ran inside this plan (a session cluster's jobs, a snapshot's job)."""

    resource: ResourceId
    action: Action
    ok: bool
    status: ResourceStatus | None
    outcomes: tuple[StepOutcome, ...] = ()
    error: str | None = None
    next: Next | None = None
    ran: bool = False  # steps ran (vs a plan that only reports)
    carried: tuple[Execution, ...] = ()
    # The change's new job did not run with every task by its readiness deadline: the pass
    # plans the resource again at once (runtime.reconciler), to roll it back or report it.
    not_ready: bool = False

    @property
    def summary(self) -> str:
        if self.error:
            return f"{self.action.value} failed ({self.next}): {self.error}"
        last = self.outcomes[-1].detail if self.outcomes else "nothing to do"
        return f"{self.action.value}: {last}"


def run_step(ctx: StepContext, step: Step) -> str:
    match step:
        case RecordSpec():
            return "spec recorded as applied"
        case StartCluster():
            return clusters.start_cluster(ctx, step)
        case StopCluster():
            return clusters.stop_cluster(ctx, step)
        case StopJob():
            return stopping.stop_job(ctx, step)
        case SubmitJob():
            return submitting.submit_job(ctx, step)
        case TakeSavepoint():
            return snapshots.take_savepoint(ctx, step)
        case TakeCheckpoint():
            return snapshots.take_checkpoint(ctx, step)
        case Rescale():
            return clusters.rescale(ctx, step)
        case AwaitJob():
            return clusters.await_job(ctx, step)
        case TrimHistory():
            return disposing.trim_history(ctx, step)
        case DisposeSnapshot():
            return disposing.dispose_snapshot(ctx, step)
        case _:
            assert_never(step)


def execute(
    ports: Ports,
    plan: JobPlan,
    status: ResourceStatus | None,
    *,
    revision: str | None,
    progress: Progress | None = None,
    timeouts: Timeouts | None = None,
    carried: Mapping[ResourceId, Carried] | None = None,
) -> Execution:
    """Run `plan`'s steps in order; never raises for a step failure (it is in the result).

    Saves only the write-ahead points: the intent before the first destructive step (here),
    and what handlers save themselves (a snapshot taken, a generation before its submission).
    A step may target another resource than the plan's (a session cluster's upgrade stops and
    resubmits its session jobs): it runs in that resource's own context from `carried`, so its
    intent, savepoint and new job id are written to its own status, before the next step.
    """
    progress, timeouts = progress or SilentProgress(), timeouts or Timeouts()
    if plan.blocked:
        progress.done(plan.resource, f"{plan.action.value}: {plan.blocked}", ok=False)
        return Execution(plan.resource, plan.action, False, status, (), plan.blocked, Next.STALL)
    if not plan.steps:
        return Execution(plan.resource, plan.action, True, status)
    working = status.model_copy(deep=True) if status else ResourceStatus()
    ctx = StepContext(ports, plan, working, revision, progress, timeouts)
    contexts = {plan.resource: ctx}
    outcomes: dict[ResourceId, list[StepOutcome]] = {plan.resource: []}
    intents: set[ResourceId] = set()
    failure: Exception | None = None
    for step in plan.steps:
        text = describe(step)
        try:
            step_ctx = contexts.get(step.target) or _carried_context(ctx, step.target, carried)
            contexts[step.target] = step_ctx
            if isinstance(step, DESTRUCTIVE) and step.target not in intents:
                _save_intent(step_ctx)
                intents.add(step.target)
            if plan.resource.kind is Kind.FLINK_STATE_SNAPSHOT:
                _in_progress(ctx, step_ctx, step)
            ctx.say(text)
            detail = run_step(step_ctx, step)
        except NotLeader:
            raise  # not this resource's failure: the pass stops, the new leader carries on
        except Exception as error:  # any failure is recorded in the status, never lost
            if not isinstance(error, GitflinkError):
                log.exception("%s: unexpected failure", ctx.resource)
            outcomes[plan.resource].append(
                StepOutcome(step=text, ok=False, detail=str(error), at=_now(ctx))
            )
            failure = error
            break
        done = StepOutcome(step=text, ok=True, detail=detail, at=_now(ctx))
        outcomes[plan.resource].append(done)
        if step.target != plan.resource:
            outcomes.setdefault(step.target, []).append(done)
    if failure is None and plan.resource.kind is Kind.FLINK_STATE_SNAPSHOT:
        # Its result is the snapshot its step took of the job (also in the job's lineage).
        for target, other in contexts.items():
            if target != plan.resource:
                ctx.status.job_status.last_savepoint = other.status.job_status.last_savepoint
                ctx.status.job_status.last_checkpoint = other.status.job_status.last_checkpoint
    message = None if failure is None else str(failure)
    late = isinstance(failure, NotReady)
    next_ = None
    if failure is not None:
        next_ = failure.next if isinstance(failure, GitflinkError) else Next.WAIT
    others = tuple(
        Execution(
            target,
            other.plan.action,
            failure is None,
            other.status,
            tuple(outcomes.get(target, ())),
            None if message is None else f"the plan of {plan.resource.short} failed: {message}",
            next_,
            ran=True,
            not_ready=late,
        )
        for target, other in contexts.items()
        if target != plan.resource
    )
    execution = Execution(
        plan.resource,
        plan.action,
        failure is None,
        ctx.status,
        tuple(outcomes[plan.resource]),
        message,
        next_,
        ran=True,
        carried=others,
        not_ready=late,
    )
    progress.done(plan.resource, execution.summary, ok=execution.ok)
    return execution


@dataclass(frozen=True, slots=True)
class Carried:
    """A resource whose steps run inside another resource's plan, with its own plan and status."""

    plan: JobPlan
    status: ResourceStatus | None


def _carried_context(
    ctx: StepContext, target: ResourceId, carried: Mapping[ResourceId, Carried] | None
) -> StepContext:
    other = (carried or {}).get(target)
    if other is None:
        raise GitflinkError(f"{ctx.resource.short}: a step targets {target.short}, not planned")
    status = other.status.model_copy(deep=True) if other.status else ResourceStatus()
    return StepContext(ctx.ports, other.plan, status, ctx.revision, ctx.progress, ctx.timeouts)


def _in_progress(ctx: StepContext, job_ctx: StepContext, step: Step) -> None:
    """A FlinkStateSnapshot's trigger, saved IN_PROGRESS before Flink is asked: its id is
    derived from the attempt, so a pass after a crash re-attaches to the same trigger."""
    if not isinstance(step, TakeSavepoint | TakeCheckpoint):
        return
    tracked = ctx.status.snapshot or SnapshotStatus()
    trigger_id = snapshots.trigger_id(job_ctx, step)
    if tracked.state is SnapshotState.IN_PROGRESS and tracked.trigger_id == trigger_id:
        return
    if ctx.status.pending is None:
        # The snapshot's own spec in flight: what its record is about before anything was
        # applied (a custom resource's spec in CR status mode comes from here).
        ctx.status.pending = PendingChange(
            action=ctx.plan.action,
            revision=ctx.revision,
            target_spec=ctx.target_spec(),
            started_at=_now(ctx),
        )
    ctx.status.snapshot = tracked.model_copy(
        update={
            "state": SnapshotState.IN_PROGRESS,
            "trigger_id": trigger_id,
            "trigger_timestamp": _now(ctx),
            "error": None,
        }
    )
    ctx.save(f"snapshot triggered ({trigger_id})")


def _now(ctx: StepContext) -> datetime:
    return ctx.ports.clock.now()


def _save_intent(ctx: StepContext) -> None:
    """The first write-ahead point. A change already in flight keeps its record (a resumed
    change); a newer target replaces it but keeps the snapshot its stop recorded."""
    target = ctx.target_spec()
    status = ctx.status
    pending = status.pending
    # Records hold fingerprints of secrets: an unchanged secret is the same target.
    if pending is None or unredact(pending.target_spec, target) != target:
        status.pending = PendingChange(
            action=ctx.plan.action,
            revision=ctx.revision,
            target_spec=target,
            started_at=_now(ctx),
            stop_snapshot=pending.stop_snapshot if pending is not None else None,
        )
    deleting = ctx.plan.action is Action.DELETE
    status.lifecycle_state = LifecycleState.DELETING if deleting else LifecycleState.UPGRADING
    status.reconciliation.state = ReconciliationState.UPGRADING
    if ctx.plan.action is Action.ROLLBACK and ctx.plan.rollback is not None:
        # Why, and what is restored from where: saved before anything is stopped.
        status.reconciliation.rollback = ctx.plan.rollback
        status.lifecycle_state = LifecycleState.ROLLING_BACK
        status.reconciliation.state = ReconciliationState.ROLLING_BACK
    status.observed_revision = ctx.revision
    ctx.save(f"{ctx.plan.action.value} started (intent recorded)")
