"""The pass's one status writer: each resource's status is decided once, at the end of the pass,
by the pure `core.reporting.report`, and saved once if it changed (Flux's finalize-status).

The executor and its handlers save only write-ahead points; nothing else writes status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from gitflink.core.reporting import Outcome, PassFacts, SourceState, report
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId, is_valid
from gitflink.model.observed import Observed
from gitflink.model.plan import JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.executor import Execution

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassRecord:
    """What a pass learnt, per resource, ready to be reported."""

    loaded: Mapping[ResourceId, ResourceStatus]  # as the pass started
    source: SourceState
    revision: str | None = None
    plan: Plan | None = None
    latest: Mapping[ResourceId, ResourceStatus] = field(default_factory=dict)  # after execution
    executions: Mapping[ResourceId, Execution] = field(default_factory=dict)  # each one's own
    observed: Mapping[ResourceId, Observed] = field(default_factory=dict)
    problems: Sequence[Problem] = ()
    known_files: Mapping[ResourceId, str] = field(default_factory=dict)
    # Resources whose status document could not be read: never overwritten by this pass.
    held: frozenset[ResourceId] = frozenset()
    owner: str | None = None  # the source of this pass; statuses another source manages stay
    stable_after: timedelta = timedelta(0)  # how long a job runs before it counts as stable


def record(ports: Ports, facts: PassRecord) -> dict[ResourceId, ResourceStatus | None]:
    """Report and save every resource's status; the statuses kept (None: removed)."""
    plans = {job.resource: job for job in facts.plan.jobs} if facts.plan else {}
    problems = _by_resource(facts.problems, facts.known_files, facts.loaded)
    universe = sorted({*facts.loaded, *plans, *problems, *facts.latest})
    now = ports.clock.now()
    kept: dict[ResourceId, ResourceStatus | None] = {}
    for rid in universe:
        if rid in facts.held or not is_valid(rid):
            continue  # a corrupt document stays for a human; an invalid id never becomes a path
        loaded = facts.loaded.get(rid)
        if (
            facts.owner is not None
            and loaded is not None
            and loaded.source
            not in (
                None,
                facts.owner,
            )
        ):
            continue  # another source manages it: its status is that source's to write
        execution = facts.executions.get(rid)
        after = facts.latest.get(rid, loaded)
        new = report(
            PassFacts(
                status=after,
                source=facts.source,
                revision=facts.revision,
                plan=plans.get(rid),
                outcome=_outcome(execution),
                observed=facts.observed.get(rid),
                problems=tuple(problems.get(rid, ())),
                owner=facts.owner,
                stable_after=facts.stable_after,
            ),
            now,
        )
        kept[rid] = new
        _save(ports, rid, (loaded, after, new), plans.get(rid), execution)
    return kept


def record_execution(
    ports: Ports, job: JobPlan, execution: Execution, *, revision: str | None
) -> dict[ResourceId, ResourceStatus | None]:
    """Report one executed plan and what it carried, as a pass would (tests, single plans)."""
    loaded = {e.resource: ports.status.load(e.resource) for e in (execution, *execution.carried)}
    latest = {e.resource: e.status for e in (execution, *execution.carried) if e.status}
    executions = {execution.resource: execution}
    executions.update({e.resource: e for e in execution.carried})
    present = {rid: status for rid, status in loaded.items() if status is not None}
    facts = PassRecord(
        loaded=present,
        source=SourceState(ok=True, message=""),
        revision=revision,
        plan=Plan(jobs=(job,)),
        latest=latest,
        executions=executions,
    )
    return record(ports, facts)


def _outcome(execution: Execution | None) -> Outcome | None:
    if execution is None:
        return None
    return Outcome(
        ok=execution.ok,
        ran=execution.ran,
        outcomes=execution.outcomes,
        error=execution.error,
        next=execution.next,
    )


_Versions = tuple[ResourceStatus | None, ResourceStatus | None, ResourceStatus | None]


def _save(
    ports: Ports,
    rid: ResourceId,
    versions: _Versions,
    plan: JobPlan | None,
    execution: Execution | None,
) -> None:
    """Save `new` unless it is what is stored already. `versions`: (as loaded, as the steps
    left it, as reported)."""
    loaded, after, new = versions
    try:
        if new is None:
            if loaded is not None or after is not None:
                ports.status.delete(rid, f"{rid.short}: deleted")
            return
        if new is loaded or (new is after and after is not None and after == loaded):
            return  # nothing learnt: a quiet pass writes nothing
        if loaded is not None and new == loaded:
            return
        ports.status.save(rid, new, f"{rid.short}: {_message(plan, execution, new)}")
    except GitflinkError as error:
        log.error("%s: status not saved: %s", rid, error)


def _message(plan: JobPlan | None, execution: Execution | None, status: ResourceStatus) -> str:
    revision = (status.observed_revision or "")[:8] or "unknown revision"
    if execution is not None and execution.ran:
        verb = plan.action.value if plan is not None else execution.action.value
        outcome = "done" if execution.ok else "failed"
        return f"{verb} {outcome} at {revision}"
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    if status.error and ready is not None:
        return f"{ready.reason} at {revision}"  # never the error text: it may quote a value
    state = status.job_status.state
    return f"job {state}" if state else f"status at {revision}"


def _by_resource(
    problems: Iterable[Problem],
    known_files: Mapping[ResourceId, str],
    loaded: Mapping[ResourceId, ResourceStatus],
) -> dict[ResourceId, list[Problem]]:
    """Each error goes to its resource; one in a file too broken to name its resources goes
    to the recorded resources last seen in that file."""
    errors = [p for p in problems if p.is_error]
    if not errors:
        return {}
    in_file: dict[str, list[ResourceId]] = {}
    for rid, path in known_files.items():
        if rid in loaded:
            in_file.setdefault(path, []).append(rid)
    found: dict[ResourceId, list[Problem]] = {}
    for problem in errors:
        owners = [problem.resource] if problem.resource else in_file.get(problem.file, [])
        for owner in owners:
            found.setdefault(owner, []).append(problem)
    return found
