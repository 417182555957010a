"""Health is observed, never assumed: `Ready` follows what Flink reports, `Drift` names what runs
differently from Git, and recoveries are counted until the job has been stable for a window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from gitflink.core.reporting.conditions import (
    DRIFT,
    READY,
    condition,
    differs,
    ready,
    set_condition,
)
from gitflink.model.observed import Observed
from gitflink.model.plan import Action, JobPlan
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import ConditionStatus, LifecycleState, Recovery, ResourceStatus

_FAILED = frozenset({"FAILED", "FAILING"})


class Draft(Protocol):
    """A status copied on its first edit (reports._Draft)."""

    @property
    def status(self) -> ResourceStatus: ...

    def edit(self) -> ResourceStatus: ...


def drift(draft: Draft, plan: JobPlan | None, now: datetime) -> None:
    """`Drift` True while what runs differs from Git (the plan names how), False once it no
    longer does; absent until the first difference, so a healthy history writes nothing."""
    found = plan.drift if plan is not None else None
    previous = condition(draft.status, DRIFT)
    if found is None and (previous is None or previous.status is ConditionStatus.FALSE):
        return
    value, reason = (ready(True), "Drifted") if found else (ready(False), "Converged")
    message = found or ""
    if differs(draft.status, DRIFT, value, reason, message):
        set_condition(draft.edit(), DRIFT, value, reason=reason, message=message, now=now)


def attempted(draft: Draft, plan: JobPlan, now: datetime) -> None:
    """A recovery ran (done or not): counted, so the next one backs off."""
    status = draft.edit()
    attempts = status.recovery.attempts if status.recovery else 0
    status.recovery = Recovery(attempts=attempts + 1, last_attempt_at=now, reason=plan.drift)
    if plan.action is Action.RECOVER and status.lifecycle_state is LifecycleState.STABLE:
        status.lifecycle_state = LifecycleState.DEPLOYED  # stable again after the window


def observed(
    draft: Draft,
    seen: Observed | None,
    plan: JobPlan | None,
    now: datetime,
    stable_after: timedelta,
) -> None:
    """What Flink reports between changes: the job's state, `Ready` from it, lifecycle STABLE
    (and the recovery count cleared) once the job has run for `stable_after`."""
    status = draft.status
    if status.pending is not None:
        return
    live = seen.job if seen is not None else None
    ours = live is not None and live.job_id == status.job_status.job_id
    if live is not None and ours and live.state != status.job_status.state:
        edited = draft.edit()
        edited.job_status.state = live.state
        edited.job_status.update_time = now
    started = live.start_time if live is not None and ours else None
    if started and not status.job_status.flink_start_time and (plan is None or not plan.drift):
        # A run verified before its start time was recorded: from now on a restart shows.
        draft.edit().job_status.flink_start_time = started
    failed = live is not None and ours and live.state in _FAILED
    if failed and draft.status.lifecycle_state is not LifecycleState.FAILED:
        draft.edit().lifecycle_state = LifecycleState.FAILED
    if plan is not None and plan.drift and plan.action is Action.NONE:
        # Reported, not converged: a failed job kept, a backoff, self-heal off.
        _ready(draft, False, "JobFailed" if failed else "Drifted", plan.drift, now)
        return
    if _session_cluster(plan) and seen is not None and seen.cluster_running:
        # A session cluster is ready when its JobManager answers (the operator's REST check):
        # watched after a change, stable once it has answered for the window.
        _settle(draft, now, stable_after)
        return
    if live is None or not ours:
        return
    if failed:
        message = f"Flink reports job {live.job_id} {live.state}"
        if live.failure:
            message = f"{message}: {live.failure}"
        _ready(draft, False, "JobFailed", message, now)
    elif live.is_running and live.all_vertices_running:
        _ready(draft, True, "JobRunning", "", now, keep_reason=True)
        _settle(draft, now, stable_after)
    elif live.state != "FINISHED":
        _ready(draft, False, "JobNotRunning", f"job {live.job_id} is {live.state}", now)


def _session_cluster(plan: JobPlan | None) -> bool:
    desired = plan.desired if plan is not None else None
    return isinstance(desired, FlinkDeployment) and desired.spec.job is None


def _settle(draft: Draft, now: datetime, stable_after: timedelta) -> None:
    """STABLE once the job ran for the window since its last recovery, or since a watched
    change was applied; a watched change's spec then becomes the last stable one."""
    status = draft.status
    recovery = status.recovery
    watched = status.watched
    since = recovery.last_attempt_at if recovery else None
    if watched:
        since = max(filter(None, (since, status.reconciliation.reconciled_at)), default=None)
    if since is not None and now - since < stable_after:
        return
    if recovery is not None or status.lifecycle_state in (
        LifecycleState.FAILED,
        LifecycleState.DEPLOYED,
    ):
        edited = draft.edit()
        edited.recovery = None
        edited.lifecycle_state = LifecycleState.STABLE
        if watched:
            rec = edited.reconciliation
            rec.last_stable_spec = rec.last_applied_spec
            rec.last_stable_revision = edited.applied_revision
            rec.upgrade_snapshot = None


def _ready(
    draft: Draft, ok: bool, reason: str, message: str, now: datetime, *, keep_reason: bool = False
) -> None:
    """`keep_reason`: a True Ready stays as it is (its reason says what made it so)."""
    previous = condition(draft.status, READY)
    value = ready(ok)
    if keep_reason and previous is not None and previous.status is value:
        return
    if differs(draft.status, READY, value, reason, message):
        set_condition(draft.edit(), READY, value, reason=reason, message=message, now=now)


def gone(draft: Draft, seen: Observed, now: datetime) -> None:
    """A job the status records as running that Flink no longer reports (its cluster is gone,
    or the cluster does not know it): never shown as running."""
    status = draft.status
    job_id = status.job_status.job_id
    if status.pending is not None or job_id is None or seen.job is not None:
        return
    if status.lifecycle_state in (LifecycleState.SUSPENDED, LifecycleState.DELETED):
        return
    if status.job_status.state in (None, "FINISHED"):
        return
    why = (
        "the Flink cluster is gone"
        if not seen.cluster_running
        else f"Flink does not know job {job_id}"
    )
    edited = draft.edit()
    edited.job_status.state = None
    _ready(draft, False, "JobNotRunning", why, now)
