"""What one pass returns: the revision, the plan, one Execution per resource, the problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from gitflink.model.errors import SourceError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ConditionStatus, LifecycleState, ResourceStatus
from gitflink.model.status_load import CorruptStatus
from gitflink.ports import Revision
from gitflink.runtime.executor import Execution


@dataclass(frozen=True)
class PassResult:
    revision: Revision | None
    plan: Plan | None = None
    executions: tuple[Execution, ...] = ()
    problems: tuple[Problem, ...] = ()
    error: str | None = None  # the pass could not start (Git unreadable)
    source_error: SourceError | None = None  # the same, as the exception
    observed: bool = True  # False: Git unchanged and converged, stopped after fetching
    corrupt: tuple[CorruptStatus, ...] = ()  # status documents the store could not read
    # Resources not running as Git says after the pass (their Ready condition is False): what
    # is being done about it (FAIL, or RECOVERING while a recovery is under way) and why.
    unhealthy: Mapping[ResourceId, Health] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        errors = any(p.is_error for p in self.problems) or bool(self.corrupt)
        healthy = not self.unhealthy
        return self.error is None and not errors and healthy and all(e.ok for e in self.executions)

    def then(self, again: PassResult) -> PassResult:
        """This result with the resources `again` planned anew within the pass as it left them."""
        plans = again.plan.jobs if again.plan is not None else ()
        by_plan = {job.resource: job for job in plans}
        by_run = {e.resource: e for e in again.executions}
        plan = self.plan
        if plan is not None:
            plan = replace(plan, jobs=tuple(by_plan.get(j.resource, j) for j in plan.jobs))
        runs = tuple(by_run.get(e.resource, e) for e in self.executions)
        ran = {e.resource for e in runs}
        runs += tuple(e for e in again.executions if e.resource not in ran)
        health = {rid: h for rid, h in self.unhealthy.items() if rid not in by_plan}
        health.update({rid: h for rid, h in again.unhealthy.items() if rid in by_plan})
        return replace(self, plan=plan, executions=runs, unhealthy=dict(sorted(health.items())))


@dataclass(frozen=True, slots=True)
class Health:
    verdict: str  # FAIL, or RECOVERING: Flink or gitflink is bringing the job back
    reason: str

    def __str__(self) -> str:
        return f"{self.verdict} {self.reason}"


def unhealthy(statuses: Mapping[ResourceId, ResourceStatus | None]) -> dict[ResourceId, Health]:
    """Each resource whose reported status says it does not run as desired: Ready False (a
    deleted resource's tombstone aside)."""
    found = {}
    for rid, status in sorted(statuses.items()):
        if status is None or status.lifecycle_state is LifecycleState.DELETED:
            continue
        ready = next((c for c in status.conditions if c.type == "Ready"), None)
        if ready is None or ready.status is not ConditionStatus.FALSE:
            continue
        recovering = ready.reason == "JobNotRunning" or (
            status.recovery is not None and ready.reason not in ("stalled", "invalid")
        )
        reason = f"{ready.reason}: {ready.message}" if ready.message else ready.reason
        found[rid] = Health("RECOVERING" if recovering else "FAIL", reason)
    return found
