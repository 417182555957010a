"""A resource's status at the end of a pass, as one pure function of (status after execution,
plan, execution outcome, observation, manifest problems, whether Git could be read).

Handlers save only the write-ahead points; everything else a pass reports is decided here, and
the runtime saves the result once per resource. The input status is never mutated: it is
copied on the first change, so a quiet pass returns the very object it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gitflink.core.reporting import health, snapshots
from gitflink.core.reporting.conditions import (
    READY,
    SOURCE,
    condition,
    differs,
    ready,
    set_condition,
)
from gitflink.model.errors import Next
from gitflink.model.flinkconf import flink_text
from gitflink.model.ids import Kind
from gitflink.model.observed import Observed
from gitflink.model.plan import WATCHED, Action, JobPlan, housekeeping
from gitflink.model.problems import Problem
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob
from gitflink.model.rollback import ROLLBACK_ENABLED, rollback_enabled
from gitflink.model.status import (
    HISTORY_LIMIT,
    ConditionStatus,
    HistoryEntry,
    LifecycleState,
    ReconciliationState,
    ResourceStatus,
    StepOutcome,
)

INVALID = "invalid"

SOURCE_PREFIX = "source: "  # marks a status error that came from Git, cleared when Git recovers


@dataclass(frozen=True, slots=True)
class Outcome:
    """What executing a resource's plan did. `ran`: steps ran for it (its own, or its
    cluster's plan carried it); False for a plan that only reports."""

    ok: bool
    ran: bool
    outcomes: tuple[StepOutcome, ...] = ()
    error: str | None = None
    next: Next | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """Whether Git could be read this pass, and why not."""

    ok: bool
    message: str
    reason: str = "fetched"


@dataclass(frozen=True, slots=True)
class PassFacts:
    """Everything a pass learnt about one resource."""

    status: ResourceStatus | None  # after execution, or as loaded when nothing ran
    source: SourceState
    revision: str | None = None
    plan: JobPlan | None = None
    outcome: Outcome | None = None
    observed: Observed | None = None
    problems: tuple[Problem, ...] = ()
    owner: str | None = None  # the source this pass reads: recorded as the manager when applied
    # How long a job must run before it counts as stable (lifecycle STABLE, recoveries cleared).
    stable_after: timedelta = timedelta(0)


class _Draft:
    """Copy on first write: the input status stays untouched."""

    def __init__(self, status: ResourceStatus) -> None:
        self.status = status
        self._copied = False

    def edit(self) -> ResourceStatus:
        if not self._copied:
            self.status = self.status.model_copy(deep=True)
            self._copied = True
        return self.status


def report(facts: PassFacts, now: datetime) -> ResourceStatus | None:
    """The status to keep; None when the resource's status is to be removed (deleted)."""
    plan, outcome = facts.plan, facts.outcome
    deleted = plan is not None and plan.action is Action.DELETE
    if deleted and outcome is not None and outcome.ok and outcome.ran:
        return _tombstone(facts.status, outcome.outcomes, facts.revision, now)
    if facts.status is None and not facts.problems and not _acted(outcome):
        return None  # nothing recorded and nothing to record
    draft = _Draft(facts.status or ResourceStatus())
    _source(draft, facts.source, now)
    if not facts.source.ok:
        return draft.status  # nothing was planned: what runs keeps running
    errors = [p for p in facts.problems if p.is_error]
    recovering = plan is not None and plan.action is Action.RECOVER
    if errors:
        _invalid(draft, errors, facts.revision, now)
    elif plan is not None and plan.blocked:
        _blocked(draft, plan.blocked, facts.revision, now)
    elif outcome is not None and not outcome.ok and plan is not None and housekeeping(plan):
        snapshots.housekeeping_failed(draft, plan, outcome.outcomes, outcome.error, now)
    elif outcome is not None and not outcome.ok:
        _failed(draft, outcome, facts.revision, now)
        if recovering and plan is not None:
            health.attempted(draft, plan, now)
    elif plan is not None and outcome is not None and outcome.ran and not housekeeping(plan):
        _applied(draft, plan, outcome.outcomes, facts.revision, now)
        if recovering:
            health.attempted(draft, plan, now)
        if facts.owner is not None and draft.status.source != facts.owner:
            draft.edit().source = facts.owner
    else:
        if plan is not None and outcome is not None and outcome.ran and housekeeping(plan):
            snapshots.housekeeping_done(draft)
        _valid_again(draft, facts.revision, now)
        health.observed(draft, facts.observed, plan, now, facts.stable_after)
    if not errors:
        health.drift(draft, plan, now)
    if plan is not None and plan.resource.kind is Kind.FLINK_STATE_SNAPSHOT:
        ok, ran = (outcome.ok, outcome.ran) if outcome is not None else (True, False)
        error = outcome.error if outcome is not None else None
        snapshots.track(draft, plan, now, ok=ok, ran=ran, error=error)
    return draft.status


def _acted(outcome: Outcome | None) -> bool:
    return outcome is not None and (outcome.ran or not outcome.ok)


def _source(draft: _Draft, source: SourceState, now: datetime) -> None:
    """`Source` False while Git cannot be read, True again once it can; absent until the first
    failure, so a healthy history writes nothing."""
    status = draft.status
    previous = condition(status, SOURCE)
    if source.ok and (previous is None or previous.status is ConditionStatus.TRUE):
        return
    value = ready(source.ok)
    if not differs(status, SOURCE, value, source.reason, source.message):
        return
    status = draft.edit()
    if status.error is None or status.error.startswith(SOURCE_PREFIX):
        status.error = None if source.ok else f"{SOURCE_PREFIX}{source.message}"
    set_condition(status, SOURCE, value, reason=source.reason, message=source.message, now=now)


def _invalid(draft: _Draft, problems: list[Problem], revision: str | None, now: datetime) -> None:
    message = "; ".join(str(p) for p in problems)
    if draft.status.error == message:
        return
    status = draft.edit()
    status.error = message
    status.observed_revision = revision
    set_condition(status, READY, ready(False), reason=INVALID, message=message, now=now)


def _valid_again(draft: _Draft, revision: str | None, now: datetime) -> None:
    """A manifest error that was fixed (or reverted) clears, even when the spec did not change."""
    previous = condition(draft.status, READY)
    if previous is None or previous.reason != INVALID:
        return
    status = draft.edit()
    status.error = None
    status.observed_revision = revision
    set_condition(status, READY, ready(True), reason="valid", message="manifest valid", now=now)


def _blocked(draft: _Draft, reason: str, revision: str | None, now: datetime) -> None:
    if draft.status.error == reason:
        return
    status = draft.edit()
    status.error = reason
    status.observed_revision = revision
    set_condition(status, READY, ready(False), reason="stalled", message=reason, now=now)


def _failed(draft: _Draft, outcome: Outcome, revision: str | None, now: datetime) -> None:
    """The error and what happens next; `pending` stays for the next pass to resume."""
    status = draft.edit()
    next_ = outcome.next or Next.WAIT
    status.error = outcome.error
    status.observed_revision = revision
    if next_ is Next.STALL:
        status.lifecycle_state = LifecycleState.FAILED
    if outcome.outcomes:
        status.last_plan = list(outcome.outcomes)
    message = outcome.error or ""
    set_condition(status, READY, ready(False), reason=next_.value, message=message, now=now)


def _applied(
    draft: _Draft,
    plan: JobPlan,
    outcomes: tuple[StepOutcome, ...],
    revision: str | None,
    now: datetime,
) -> None:
    """The change is verified: spec recorded as applied, lifecycle, revision, history; the
    write-ahead record cleared."""
    status = draft.edit()
    target = _target(plan)
    rec = status.reconciliation
    rec.last_applied_spec = target
    rec.state = ReconciliationState.DEPLOYED
    rec.reconciled_at = now
    rec.rollback = plan.rollback  # a rollback holds while Git asks for the spec it put aside
    applied = revision
    if (target.get("job") or {}).get("state") == "suspended":
        status.lifecycle_state = LifecycleState.SUSPENDED
    elif plan.rollback is not None:
        status.lifecycle_state = LifecycleState.ROLLED_BACK
        rec.state = ReconciliationState.ROLLED_BACK
        applied = plan.rollback.to_revision or revision
        _stable(status, target, applied)
    elif plan.action in WATCHED and rollback_enabled(_config(plan, ROLLBACK_ENABLED)):
        # Watched until its job ran for the stability window (health.observed), else rolled
        # back to the last stable spec from the state this change started from.
        status.lifecycle_state = LifecycleState.DEPLOYED
        rec.upgrade_snapshot = status.job_status.restored_from
    else:
        status.lifecycle_state = LifecycleState.STABLE
        _stable(status, target, revision)
    started = status.pending.started_at if status.pending else None
    status.pending = None
    status.error = None
    status.applied_revision = applied
    status.observed_revision = revision
    taken = status.job_status.last_savepoint
    fresh = taken and started and taken.taken_at and taken.taken_at >= started
    entry = HistoryEntry(
        revision=revision,
        action=plan.action.value,
        applied_at=now,
        savepoint=taken.path if fresh and taken else None,
    )
    status.history = [entry, *status.history][:HISTORY_LIMIT]
    status.last_plan = list(outcomes)
    message = f"recovered: {plan.drift}" if plan.drift else "applied"
    if plan.action is Action.ROLLBACK and plan.rollback is not None:
        message = f"rolled back: {plan.rollback.reason}"
    set_condition(status, READY, ready(True), reason=plan.action.value, message=message, now=now)


def _stable(status: ResourceStatus, target: dict[str, Any], revision: str | None) -> None:
    rec = status.reconciliation
    rec.last_stable_spec = target
    rec.last_stable_revision = revision
    rec.upgrade_snapshot = None


def _config(plan: JobPlan, key: str) -> str | None:
    desired = plan.desired
    if not isinstance(desired, FlinkDeployment | FlinkSessionJob):
        return None
    value = desired.spec.flink_configuration.get(key)
    return None if value is None else str(flink_text(value))


def _tombstone(
    status: ResourceStatus | None,
    outcomes: tuple[StepOutcome, ...],
    revision: str | None,
    now: datetime,
) -> ResourceStatus | None:
    """What stays of a deleted resource: its history, its last savepoint (the final one, when
    the delete took it) and its generation, so a resource created again never reuses a job id.
    Nothing in it counts as deployed."""
    if status is None:
        return None
    status = status.model_copy(deep=True)
    started = status.pending.started_at if status.pending else None
    taken = status.job_status.last_savepoint
    final = (
        taken.path if taken and started and taken.taken_at and taken.taken_at >= started else None
    )
    status.lifecycle_state = LifecycleState.DELETED
    status.reconciliation.last_applied_spec = None
    status.reconciliation.state = ReconciliationState.DEPLOYED
    status.reconciliation.reconciled_at = now
    status.pending = None
    status.error = None
    status.job_status.job_id = None
    status.job_status.state = None
    status.job_status.upgrade_savepoint_path = None
    status.applied_revision = revision
    status.observed_revision = revision
    entry = HistoryEntry(revision=revision, action="delete", applied_at=now, savepoint=final)
    status.history = [entry, *status.history][:HISTORY_LIMIT]
    status.last_plan = list(outcomes)
    message = "removed from Git" + (f"; final savepoint {final}" if final else "")
    set_condition(status, READY, ready(False), reason="Deleted", message=message, now=now)
    return status


def _target(plan: JobPlan) -> dict[str, Any]:
    if plan.applies is not None:
        return dict(plan.applies)
    if plan.desired is None:
        return {}
    spec: dict[str, Any] = plan.desired.to_manifest().get("spec", {})
    return spec


def seen_now(
    status: ResourceStatus, seen: Observed, now: datetime, stable_after: timedelta
) -> ResourceStatus:
    """`status` as observed now, for `gitflink status`: the job's state and `Ready` from what
    Flink reports, not from what was last recorded. The input is not changed."""
    draft = _Draft(status)
    health.gone(draft, seen, now)
    health.observed(draft, seen, None, now, stable_after)
    return draft.status
