"""Runs one resource's JobPlan through the ports, keeping the status as a write-ahead log.

Rules (docs/executor.md): the intent is saved before the first step that changes anything;
every snapshot is saved before the next step; each handler is idempotent; success is declared
only after Flink shows it (all vertices RUNNING, the restored path equal to the one recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from gitflink.model.errors import GitflinkError, Next, StatusWriteError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import (
    Action,
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
    describe,
)
from gitflink.model.status import (
    HISTORY_LIMIT,
    HistoryEntry,
    LifecycleState,
    PendingChange,
    ReconciliationState,
    ResourceStatus,
    StepOutcome,
)
from gitflink.ports import Ports
from gitflink.runtime import clusters, conditions, snapshots, stopping, submitting
from gitflink.runtime.context import StepContext, Timeouts
from gitflink.runtime.progress import Progress, SilentProgress

log = logging.getLogger(__name__)

# Steps that change what runs: the intent must be durable before the first of them.
DESTRUCTIVE = (StartCluster, StopCluster, StopJob, SubmitJob, Rescale)


@dataclass(frozen=True, slots=True)
class Execution:
    """What happened to one resource. `status` is None once a deleted resource's status is gone."""

    resource: ResourceId
    action: Action
    ok: bool
    status: ResourceStatus | None
    outcomes: tuple[StepOutcome, ...] = ()
    error: str | None = None
    next: Next | None = None
    changed: bool = True  # False when nothing was written (no steps, a repeated block)

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

    A step may target another resource than the plan's (a session cluster's upgrade stops and
    resubmits its session jobs): it runs in that resource's own context from `carried`, so its
    intent, savepoint and new job id are written to its own status, before the next step.
    """
    working = status.model_copy(deep=True) if status else ResourceStatus()
    progress, timeouts = progress or SilentProgress(), timeouts or Timeouts()
    ctx = StepContext(ports, plan, working, revision, progress, timeouts)
    if plan.blocked:
        return _blocked(ctx, status)
    if not plan.steps:
        return Execution(plan.resource, plan.action, True, status, changed=False)
    contexts = {plan.resource: ctx}
    outcomes: dict[ResourceId, list[StepOutcome]] = {plan.resource: []}
    intents: set[ResourceId] = set()
    for step in plan.steps:
        text = describe(step)
        try:
            step_ctx = contexts.get(step.target) or _carried_context(ctx, step.target, carried)
            contexts[step.target] = step_ctx
            if isinstance(step, DESTRUCTIVE) and step.target not in intents:
                _save_intent(step_ctx)
                intents.add(step.target)
            ctx.say(text)
            detail = run_step(step_ctx, step)
        except Exception as error:  # any failure is recorded in the status, never lost
            failed = StepOutcome(step=text, ok=False, detail=str(error), at=_now(ctx))
            outcomes[plan.resource].append(failed)
            return _fail(ctx, error, outcomes[plan.resource])
        done = StepOutcome(step=text, ok=True, detail=detail, at=_now(ctx))
        outcomes[plan.resource].append(done)
        if step.target != plan.resource:
            outcomes.setdefault(step.target, []).append(done)
        if step_ctx.status.pending is not None:
            step_ctx.status.pending.completed_steps.append(text)
        if isinstance(step, DESTRUCTIVE):
            step_ctx.save(f"done: {text}")
    for target, other in contexts.items():
        if target == plan.resource:
            continue
        if other.plan.action is not Action.NONE:
            succeed(other, outcomes[target], other.target_spec())
        if plan.resource.kind is Kind.FLINK_STATE_SNAPSHOT:
            # Its result is the snapshot its step took of the job (also in the job's lineage).
            ctx.status.job_status.last_savepoint = other.status.job_status.last_savepoint
            ctx.status.job_status.last_checkpoint = other.status.job_status.last_checkpoint
    return succeed(ctx, outcomes[plan.resource], ctx.target_spec())


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


def _now(ctx: StepContext) -> datetime:
    return ctx.ports.clock.now()


def _save_intent(ctx: StepContext) -> None:
    target = ctx.target_spec()
    status = ctx.status
    if status.pending is None or status.pending.target_spec != target:
        status.pending = PendingChange(
            action=ctx.plan.action.value,
            revision=ctx.revision,
            target_spec=target,
            started_at=_now(ctx),
        )
    deleting = ctx.plan.action is Action.DELETE
    status.lifecycle_state = LifecycleState.DELETING if deleting else LifecycleState.UPGRADING
    status.reconciliation.state = ReconciliationState.UPGRADING
    status.observed_revision = ctx.revision
    ctx.save(f"{ctx.plan.action.value} started (intent recorded)")


def succeed(ctx: StepContext, outcomes: list[StepOutcome], target: dict[str, Any]) -> Execution:
    """Record the change as applied: spec, lifecycle, revision, history; pending cleared."""
    status, now, action = ctx.status, _now(ctx), ctx.plan.action
    resource = ctx.resource
    if action is Action.DELETE:
        ctx.ports.status.delete(resource, f"{resource.short}: deleted")
        ctx.progress.done(resource, "deleted", ok=True)
        return Execution(resource, action, True, None, tuple(outcomes))
    status.reconciliation.last_applied_spec = target
    status.reconciliation.state = ReconciliationState.DEPLOYED
    status.reconciliation.reconciled_at = now
    if (target.get("job") or {}).get("state") == "suspended":
        status.lifecycle_state = LifecycleState.SUSPENDED
    else:
        status.lifecycle_state = LifecycleState.STABLE
        status.reconciliation.last_stable_spec = target
    started = status.pending.started_at if status.pending else None
    status.pending = None
    status.error = None
    status.applied_revision = ctx.revision
    status.observed_revision = ctx.revision
    taken = status.job_status.last_savepoint
    savepoint = (
        taken.path if taken and started and taken.taken_at and taken.taken_at >= started else None
    )
    entry = HistoryEntry(
        revision=ctx.revision, action=action.value, applied_at=now, savepoint=savepoint
    )
    status.history = [entry, *status.history][:HISTORY_LIMIT]
    status.last_plan = outcomes
    conditions.set_condition(status, now, ok=True, reason=action.value, message="applied")
    ctx.save(f"{action.value} done at {ctx.revision or 'unknown revision'}")
    execution = Execution(resource, action, True, status, tuple(outcomes))
    ctx.progress.done(resource, execution.summary, ok=True)
    return execution


def _fail(ctx: StepContext, error: Exception, outcomes: list[StepOutcome]) -> Execution:
    """The error and what happens next go into the status; `pending` stays for the next pass."""
    status, now = ctx.status, _now(ctx)
    next_ = error.next if isinstance(error, GitflinkError) else Next.WAIT
    if not isinstance(error, GitflinkError):
        log.exception("%s: unexpected failure", ctx.resource)
    status.error = str(error)
    status.observed_revision = ctx.revision
    if next_ is Next.STALL:
        status.lifecycle_state = LifecycleState.FAILED
    status.last_plan = outcomes
    conditions.set_condition(status, now, ok=False, reason=next_.value, message=str(error))
    if not isinstance(error, StatusWriteError):
        try:
            ctx.save(f"{ctx.plan.action.value} failed: {error}")
        except StatusWriteError as write_error:
            log.error("%s: status not saved: %s", ctx.resource, write_error)
    execution = Execution(
        ctx.resource, ctx.plan.action, False, status, tuple(outcomes), str(error), next_
    )
    ctx.progress.done(ctx.resource, execution.summary, ok=False)
    return execution


def _blocked(ctx: StepContext, original: ResourceStatus | None) -> Execution:
    reason = ctx.plan.blocked or "blocked"
    status = ctx.status
    changed = status.error != reason
    if changed:
        status.error = reason
        status.observed_revision = ctx.revision
        conditions.set_condition(status, _now(ctx), ok=False, reason="stalled", message=reason)
        ctx.save(f"blocked: {reason}")
    execution = Execution(
        ctx.resource, ctx.plan.action, False, status, (), reason, Next.STALL, changed=changed
    )
    ctx.progress.done(ctx.resource, execution.summary, ok=False)
    return execution
