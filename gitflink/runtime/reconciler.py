"""One reconciliation pass, the only place the sequence is written out:

fetch -> read manifests (reading.ManifestReader: only new blobs are parsed, nothing when the
revision did not move) -> validate -> statuses (only changed ones parsed) -> (finish
interrupted submissions) -> observe (observing.Observer: one job listing per cluster, details
only where planning may need them) -> plan (memo.PlanMemo: reused when nothing changed)
-> execute (resources in parallel, in the planner's order of phases) -> statuses saved
(reporting: job states Flink reports for resources nothing was done to).

`run_pass(ports, config)` is all a caller needs (the CLI's `sync`, the agent loop); the status
store behind `ports.status` may be the file store or the Git status branch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby

from gitflink.core.validators import Validator
from gitflink.model.errors import GitflinkError, Next, SourceError
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.plan import Action, JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import CorruptStatus, corrupt_of
from gitflink.ports import Ports, Revision
from gitflink.runtime import conditions, reporting, source_status
from gitflink.runtime.context import Timeouts
from gitflink.runtime.executor import Carried, Execution, execute
from gitflink.runtime.memo import PlanMemo
from gitflink.runtime.observing import Observer
from gitflink.runtime.progress import Progress, SilentProgress
from gitflink.runtime.reading import ManifestReader, Manifests
from gitflink.runtime.resuming import finish_interrupted, recover_stop_savepoint
from gitflink.runtime.settling import Settled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassConfig:
    roots: Sequence[str] = ()  # repository folders holding manifests; () = the whole tree
    prune: bool = True  # delete what was removed from Git (else: report it as orphaned)
    max_workers: int = 4  # resources executed at the same time
    progress: Progress = field(default_factory=SilentProgress)
    timeouts: Timeouts = field(default_factory=Timeouts)
    validators: Sequence[Validator] = ()  # custom validators (plugins), run after the built-in
    # Parse results by blob id, what the observer decided per manifest and status object, and
    # the last plan, kept across passes: keep this config for the process's life (the agent
    # and `sync` do).
    reader: ManifestReader = field(default_factory=ManifestReader)
    observer: Observer = field(default_factory=Observer)
    memo: PlanMemo = field(default_factory=PlanMemo)
    # Git unchanged since a converged pass: stop after fetching until the drift check is due.
    settled: Settled = field(default_factory=Settled)


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

    @property
    def ok(self) -> bool:
        errors = any(p.is_error for p in self.problems) or bool(self.corrupt)
        return self.error is None and not errors and all(e.ok for e in self.executions)


def run_pass(ports: Ports, config: PassConfig | None = None) -> PassResult:
    """Bring what runs in line with Git at the source's current revision. Never raises for a
    resource's failure: each is in its Execution and its status."""
    config = config or PassConfig()
    if ports.source is None:
        raise SourceError("run_pass needs a Git source in ports.source")
    try:
        revision = ports.source.fetch()
        quiet = config.settled.reuse(revision, ports.clock.monotonic())
        if quiet is not None:
            return quiet
        manifests = config.reader.read(ports.source, revision, config.roots, config.validators)
    except SourceError as error:
        # Nothing is planned, so nothing running is touched; statuses say why.
        source_status.record(ports, dict(ports.status.load_all()), error)
        return PassResult(revision=None, error=str(error), source_error=error)
    parsed, problems = manifests.parsed, manifests.problems
    loaded = ports.status.load_all()
    statuses = dict(loaded)
    # A status document the store could not read holds back its own resource (its job is left
    # alone, its document is not overwritten); every other resource proceeds.
    corrupt = corrupt_of(loaded)
    held = {c.resource: str(c) for c in corrupt if c.resource is not None}
    for document in corrupt:
        log.error("%s", document)
    source_status.record(ports, statuses, None, revision)
    finished = _finish_interrupted(ports, statuses, config)
    resources = [d.resource for d in parsed.desired]
    observation = config.observer.observe(ports, resources, statuses)
    plan = config.memo.plan(
        manifests,
        observation.observed,
        prune=config.prune,
        head=revision.sha,
        known_files=_known_files(manifests, statuses),
    )
    _record_problems(ports, statuses, problems, revision, manifests.known_files, held=held)
    executed = _execute(
        ports,
        plan,
        statuses=statuses,
        unreachable={**observation.unreachable, **held},
        revision=revision,
        config=config,
    )
    reporting.record_observed(ports, plan, statuses, observation.observed)
    done = {e.resource for e in finished}
    executions = [*finished, *(e for e in executed if e.resource not in done or e.outcomes)]
    result = PassResult(revision, plan, tuple(executions), tuple(problems), corrupt=corrupt)
    config.settled.record(result, ports.clock.monotonic())
    return result


def _known_files(
    manifests: Manifests, statuses: Mapping[ResourceId, ResourceStatus]
) -> dict[ResourceId, str]:
    """Where each resource was declared, so that a file Git cannot parse holds back the
    deletion of what it declared. A deployed resource whose file is unknown (first pass after a
    restart) may be in any broken file: it is held too, never deleted on a guess."""
    known = dict(manifests.known_files)
    broken = sorted({p.file for p in manifests.problems if p.is_error and p.resource is None})
    if broken:
        for rid in statuses:
            known.setdefault(rid, broken[0])
    return known


def _finish_interrupted(
    ports: Ports, statuses: dict[ResourceId, ResourceStatus], config: PassConfig
) -> list[Execution]:
    done: list[Execution] = []
    interrupted = sorted((rid, s) for rid, s in statuses.items() if s.pending is not None)
    for rid, original in interrupted:
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
    known_files: Mapping[ResourceId, str],
    *,
    held: Mapping[ResourceId, str],
) -> None:
    """An invalid resource is skipped; its problems go into its own status. A file too broken
    to name its resources reports to the recorded resources last seen in it. An id that fails
    validation has no status to write (it never becomes a path), nor has a held resource."""
    if not any(p.is_error for p in problems):
        return  # the common case: nothing to index
    by_resource: dict[ResourceId, list[Problem]] = {}
    in_file: dict[str, list[ResourceId]] = {}
    for rid, path in known_files.items():
        if rid in statuses:
            in_file.setdefault(path, []).append(rid)
    for problem in problems:
        if not problem.is_error:
            continue
        owners = [problem.resource] if problem.resource else in_file.get(problem.file, [])
        for owner in owners:
            by_resource.setdefault(owner, []).append(problem)
    for rid, found in by_resource.items():
        if rid in held or not is_valid(rid):
            continue
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


def _phase(job: JobPlan) -> tuple[bool, Kind]:
    # By identity: enum members hash in Python, and a quiet pass asks 1,000 times.
    action = job.action
    stopping = action is Action.DELETE or action is Action.SUSPEND or action is Action.ORPHANED
    return not stopping, job.resource.kind


def _carried(
    plan: Plan, job: JobPlan, statuses: Mapping[ResourceId, ResourceStatus]
) -> dict[ResourceId, Carried]:
    """The resources whose steps `job` runs (a session cluster's jobs), each with its own plan."""
    carried: dict[ResourceId, Carried] = {}
    for step in job.steps:
        other = plan.for_resource(step.target) if step.target != job.resource else None
        if other is not None:
            carried[step.target] = Carried(other, statuses.get(step.target))
    return carried


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
        if unreachable and job.resource in unreachable:
            reason = unreachable[job.resource]
            config.progress.done(job.resource, reason, ok=False)
            status = statuses.get(job.resource)
            return Execution(job.resource, job.action, False, status, (), reason, Next.WAIT)
        if not job.steps and not job.blocked:
            # What `execute` returns for such a plan, without its deep copy of the status:
            # on a quiet pass over 1,000 resources the copies alone cost most of the pass.
            status = statuses.get(job.resource)
            return Execution(job.resource, job.action, True, status, changed=False)
        return execute(
            ports,
            job,
            statuses.get(job.resource),
            revision=revision.sha,
            progress=config.progress,
            timeouts=config.timeouts,
            carried=_carried(plan, job, statuses),
        )

    results: list[Execution] = []
    with ThreadPoolExecutor(max_workers=max(1, config.max_workers)) as pool:
        for _, phase in groupby(plan.jobs, key=_phase):
            jobs = list(phase)
            running = {i: pool.submit(one, job) for i, job in enumerate(jobs) if job.steps}
            # A plan without steps only reports: a thread hop would cost more than it does.
            inline = {i: one(job) for i, job in enumerate(jobs) if i not in running}
            results.extend(
                inline[i] if i in inline else running[i].result() for i in range(len(jobs))
            )
    return results
