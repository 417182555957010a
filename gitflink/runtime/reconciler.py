"""One reconciliation pass, the only place the sequence is written out:

fetch -> read_tree -> parse -> validate -> (finish interrupted submissions) -> observe -> plan
-> execute (resources in parallel, in the planner's order of phases) -> statuses saved.

`run_pass(ports, config)` is all a caller needs (the CLI's `sync`, the agent loop); the status
store behind `ports.status` may be the file store or the Git status branch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby

from gitflink.core import parsing, planning, validation
from gitflink.core.validators import Validator
from gitflink.model.errors import GitflinkError, Next, SourceError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action, JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports, Revision
from gitflink.runtime import conditions
from gitflink.runtime.context import Timeouts
from gitflink.runtime.executor import Execution, execute
from gitflink.runtime.observing import observe
from gitflink.runtime.progress import Progress, SilentProgress
from gitflink.runtime.resuming import finish_interrupted, recover_stop_savepoint

log = logging.getLogger(__name__)
_STOPPING = frozenset({Action.DELETE, Action.SUSPEND, Action.ORPHANED})


@dataclass(frozen=True)
class PassConfig:
    roots: Sequence[str] = ()  # repository folders holding manifests; () = the whole tree
    prune: bool = True  # delete what was removed from Git (else: report it as orphaned)
    max_workers: int = 4  # resources executed at the same time
    progress: Progress = field(default_factory=SilentProgress)
    timeouts: Timeouts = field(default_factory=Timeouts)
    validators: Sequence[Validator] = ()  # custom validators (plugins), run after the built-in


@dataclass(frozen=True)
class PassResult:
    revision: Revision | None
    plan: Plan | None = None
    executions: tuple[Execution, ...] = ()
    problems: tuple[Problem, ...] = ()
    error: str | None = None  # the pass could not start (Git unreadable)

    @property
    def ok(self) -> bool:
        errors = any(p.is_error for p in self.problems)
        return self.error is None and not errors and all(e.ok for e in self.executions)


def run_pass(ports: Ports, config: PassConfig | None = None) -> PassResult:
    """Bring what runs in line with Git at the source's current revision. Never raises for a
    resource's failure: each is in its Execution and its status."""
    config = config or PassConfig()
    if ports.source is None:
        raise SourceError("run_pass needs a Git source in ports.source")
    try:
        revision = ports.source.fetch()
        files = ports.source.read_tree(revision, config.roots)
    except SourceError as error:
        return PassResult(revision=None, error=str(error))
    parsed = parsing.parse_files(files)
    checked = validation.validate(parsed.desired, config.validators, broken=parsed.broken)
    problems = (*parsed.problems, *checked)
    statuses = dict(ports.status.load_all())
    finished = _finish_interrupted(ports, statuses, config)
    resources = [d.resource for d in parsed.desired]
    observation = observe(ports, resources, statuses)
    plan = planning.plan_changes(
        parsed.desired,
        observation.observed,
        prune=config.prune,
        problems=problems,
        head=revision.sha,
    )
    _record_problems(ports, statuses, problems, revision)
    executed = _execute(
        ports,
        plan,
        statuses=statuses,
        unreachable=observation.unreachable,
        revision=revision,
        config=config,
    )
    done = {e.resource for e in finished}
    executions = [*finished, *(e for e in executed if e.resource not in done or e.outcomes)]
    return PassResult(revision, plan, tuple(executions), tuple(problems))


def _finish_interrupted(
    ports: Ports, statuses: dict[ResourceId, ResourceStatus], config: PassConfig
) -> list[Execution]:
    done: list[Execution] = []
    for rid, original in sorted(statuses.items()):
        if original.pending is None:
            continue
        status = (
            recover_stop_savepoint(
                ports, rid, original, progress=config.progress, timeouts=config.timeouts
            )
            or original
        )
        statuses[rid] = status
        try:
            result = finish_interrupted(
                ports, rid, status, progress=config.progress, timeouts=config.timeouts
            )
        except GitflinkError as error:
            log.warning("%s: could not finish the interrupted change yet: %s", rid, error)
            continue
        if result is not None and result.status is not None:
            statuses[rid] = result.status
            done.append(result)
    return done


def _record_problems(
    ports: Ports,
    statuses: dict[ResourceId, ResourceStatus],
    problems: Sequence[Problem],
    revision: Revision,
) -> None:
    """An invalid resource is skipped; its problems go into its own status (if it has one)."""
    by_resource: dict[ResourceId, list[Problem]] = {}
    for problem in problems:
        if problem.is_error and problem.resource is not None:
            by_resource.setdefault(problem.resource, []).append(problem)
    for rid, found in by_resource.items():
        status = statuses.get(rid) or ResourceStatus()
        message = "; ".join(str(p) for p in found)
        if status.error == message:
            continue
        status.error = message
        status.observed_revision = revision.sha
        now = ports.clock.now()
        conditions.set_condition(status, now, ok=False, reason="invalid", message=message)
        ports.status.save(rid, status, f"{rid.short}: invalid at {revision.short}")
        statuses[rid] = status


def _phase(job: JobPlan) -> tuple[bool, str]:
    return job.action not in _STOPPING, job.resource.kind.value


def _execute(
    ports: Ports,
    plan: Plan,
    *,
    statuses: dict[ResourceId, ResourceStatus],
    unreachable: dict[ResourceId, str],
    revision: Revision,
    config: PassConfig,
) -> list[Execution]:
    """Plans come sorted in phases (stops before starts, clusters before their jobs): each phase
    runs in parallel, phases one after another."""

    def one(job: JobPlan) -> Execution:
        if job.resource in unreachable:
            reason = unreachable[job.resource]
            config.progress.done(job.resource, reason, ok=False)
            status = statuses.get(job.resource)
            return Execution(job.resource, job.action, False, status, (), reason, Next.WAIT)
        return execute(
            ports,
            job,
            statuses.get(job.resource),
            revision=revision.sha,
            progress=config.progress,
            timeouts=config.timeouts,
        )

    results: list[Execution] = []
    with ThreadPoolExecutor(max_workers=max(1, config.max_workers)) as pool:
        for _, phase in groupby(plan.jobs, key=_phase):
            results.extend(pool.map(one, list(phase)))
    return results
