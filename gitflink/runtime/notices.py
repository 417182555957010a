"""What a pass tells listeners, built from what it decided: status changes, one event per
resource acted on or found failing, and the revision's state for commit statuses (pending once
when its change starts, then success or failure with the plan's summary, each told once)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from gitflink.model.fingerprints import scrub
from gitflink.model.ids import ResourceId
from gitflink.model.notifications import (
    EventType,
    Notice,
    ResourceEvent,
    RevisionState,
    RevisionStateKind,
    StatusChange,
)
from gitflink.model.plan import Action, JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ResourceStatus
from gitflink.runtime.executor import Execution

SUMMARY_LIMIT = 250  # GitLab's description limit; adapters cut further where theirs is lower


def status_changes(
    loaded: Mapping[ResourceId, ResourceStatus],
    kept: Mapping[ResourceId, ResourceStatus | None],
    revision: str | None,
    now: datetime,
) -> list[StatusChange]:
    """The statuses the pass's one writer changed (None: deleted)."""
    changes = []
    for rid, new in sorted(kept.items()):
        before = loaded.get(rid)
        if new != before:
            changes.append(StatusChange(rid, _as_stored(before), _as_stored(new), revision, now))
    return changes


def _as_stored(status: ResourceStatus | None) -> ResourceStatus | None:
    """The status as a store writes it: every secret a fingerprint. Listeners (plugins,
    webhooks) get nothing a status document would not show."""
    if status is None:
        return None
    return ResourceStatus.model_validate(scrub(status.model_dump(mode="json", by_alias=True)))


def events(
    executions: Sequence[Execution],
    problems: Sequence[Problem],
    revision: str | None,
    now: datetime,
) -> list[ResourceEvent]:
    found = []
    for problem in problems:
        if problem.is_error and problem.resource is not None:
            message = str(scrub(f"{problem}"))
            found.append(
                ResourceEvent(
                    problem.resource, EventType.WARNING, "Invalid", message, revision, now
                )
            )
    for execution in executions:
        if not execution.ok:
            kind, reason = EventType.WARNING, "Failed"
        elif execution.ran:
            kind, reason = EventType.NORMAL, execution.action.value.capitalize()
        else:
            continue
        message = str(scrub(execution.summary))
        found.append(ResourceEvent(execution.resource, kind, reason, message, revision, now))
    return found


def summary(plan: Plan, executions: Sequence[Execution], problems: Sequence[Problem]) -> str:
    """One line: what failed first, then what was applied, then what stayed as it was."""
    failed = [f"{e.resource.short} {e.summary}" for e in executions if not e.ok]
    invalid = sorted({p.resource.short for p in problems if p.is_error and p.resource})
    applied = [f"{j.action.value} {j.resource.short}" for j in plan.jobs if _changes(j)]
    same = sum(1 for j in plan.jobs if j.action is Action.NONE)
    parts = []
    if failed:
        parts.append("failed: " + "; ".join(failed))
    if invalid:
        parts.append("invalid: " + ", ".join(invalid))
    if applied:
        parts.append("applied: " + ", ".join(applied))
    if same:
        parts.append(f"{same} unchanged")
    text = str(scrub("; ".join(parts) or "nothing to apply"))
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 3] + "..."


def _changes(job: JobPlan) -> bool:
    """Steps that change what runs (recording an applied spec alone changes nothing)."""
    return bool(job.steps) and job.action is not Action.NONE


class RevisionStates:
    """Remembers what was told per revision, so a drift check repeating the same outcome, or
    a second pass over a started change, tells nothing new."""

    def __init__(self) -> None:
        self._told: dict[str, tuple[RevisionStateKind, str]] = {}
        self._lock = threading.Lock()

    def started(self, sha: str, plan: Plan, now: datetime) -> list[Notice]:
        if not any(_changes(job) for job in plan.jobs):
            return []
        with self._lock:
            if sha in self._told:
                return []  # a change at this revision was told before (pending or finished)
            self._told = {sha: (RevisionStateKind.PENDING, "")}  # only the latest revision
        description = summary(plan, (), ()).replace("applied:", "applying:", 1)
        return [RevisionState(sha, RevisionStateKind.PENDING, description, now)]

    def finished(self, sha: str, ok: bool, description: str, now: datetime) -> list[Notice]:
        state = RevisionStateKind.SUCCESS if ok else RevisionStateKind.FAILURE
        with self._lock:
            told = self._told.get(sha)
            if told is not None and told[0] is state and (ok or told[1] == description):
                return []
            self._told = {sha: (state, description)}
        return [RevisionState(sha, state, description, now)]
