"""One reconciliation pass, the only place the sequence is written out:

fetch -> read manifests (reading.ManifestReader: only new blobs are parsed, nothing when the
revision did not move) -> validate -> statuses -> observe (one job listing per cluster, details
only where planning may need them) -> plan (pure, from Git, the last applied spec and what was
observed; interrupted changes are resumed by the plan) -> execute (resources in parallel, in the
plan's phases; only write-ahead points are saved) -> record (recording: each status decided
once by core.reporting and saved once).

`run_pass(ports, config)` is all a caller needs (the CLI's `sync`, the agent loop); the status
store behind `ports.status` may be the file store or the Git status branch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from gitflink.core import planning
from gitflink.core.defaulting import with_default_configuration
from gitflink.core.planning import Healing, removal
from gitflink.core.planning.removal import PruneGuard
from gitflink.core.planning.topology import phase
from gitflink.core.reporting import SourceState
from gitflink.core.validators import Validator
from gitflink.model.errors import Next, NotLeader, SourceError
from gitflink.model.ids import ResourceId
from gitflink.model.notifications import Notice
from gitflink.model.plan import JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import corrupt_of
from gitflink.ports import Ports, Revision
from gitflink.runtime import measuring, notices, reverting
from gitflink.runtime.context import Timeouts
from gitflink.runtime.executor import Carried, Execution, execute
from gitflink.runtime.notifying import Notifier
from gitflink.runtime.observing import observe
from gitflink.runtime.progress import Progress, SilentProgress
from gitflink.runtime.reading import ManifestReader, Manifests
from gitflink.runtime.recording import PassRecord, record
from gitflink.runtime.results import PassResult, unhealthy
from gitflink.runtime.settling import Settled

__all__ = ["PassConfig", "PassResult", "run_pass"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassConfig:
    roots: Sequence[str] = ()  # repository folders holding manifests; () = the whole tree
    prune: bool = True  # delete what was removed from Git (else: report it as orphaned)
    prune_guard: PruneGuard = field(default_factory=PruneGuard)  # no mass prune by mistake
    # Which source this is (repository, branch, paths): it prunes only what it manages and
    # leaves resources of other sources alone. None: every recorded resource is its own.
    source_id: str | None = None
    max_workers: int = 4  # resources executed at the same time
    progress: Progress = field(default_factory=SilentProgress)
    timeouts: Timeouts = field(default_factory=Timeouts)
    validators: Sequence[Validator] = ()  # custom validators (plugins), run after the built-in
    plugin_errors: Sequence[str] = ()  # plugins that could not be loaded: reported every pass
    # Parse results by blob id, kept across passes: keep this config for the process's life
    # (the agent and `sync` do).
    reader: ManifestReader = field(default_factory=ManifestReader)
    # Git unchanged since a converged pass: stop after fetching until the drift check is due.
    settled: Settled = field(default_factory=Settled)
    # What runs differently from Git: how it is converged (docs/recovery.md); `now` is set
    # per pass. A recovered job counts as stable after running for `stable_after` seconds.
    healing: Healing = field(default_factory=Healing)
    stable_after: float = 60.0
    # Resource listeners (entry points `gitflink.listeners`, webhooks, commit statuses): told
    # what each pass decided, never able to break it.
    notifier: Notifier = field(default_factory=Notifier)
    # The default Flink configuration laid under every FlinkDeployment's (the config file's
    # `flinkConfiguration`); a key the manifest sets wins.
    flink_defaults: Mapping[str, Any] = field(default_factory=dict)
    # Only these resources are acted on (`gitflink rollback`); None: every resource.
    only: frozenset[ResourceId] | None = None


def run_pass(ports: Ports, config: PassConfig | None = None) -> PassResult:
    """Bring what runs in line with Git at the source's current revision. Never raises for a
    resource's failure: each is in its Execution and its status."""
    config = config or PassConfig()
    if ports.source is None:
        raise SourceError("run_pass needs a Git source in ports.source")
    try:
        with measuring.stage(ports, "fetch"):
            revision = measuring.fetch(ports)
        quiet = config.settled.reuse(revision, ports.clock.monotonic())
        if quiet is not None:
            return quiet
        with measuring.stage(ports, "parse"):
            reader = config.reader
            manifests = reader.read(ports.source, revision, config.roots, config.validators)
    except SourceError as error:
        # Nothing is planned, so nothing running is touched; statuses say why.
        source = SourceState(ok=False, message=str(error), reason=error.next.value)
        recorded = dict(ports.status.load_all())
        kept = record(ports, PassRecord(loaded=recorded, source=source, owner=config.source_id))
        changes = notices.status_changes(recorded, kept, None, ports.clock.now())
        config.notifier.deliver(changes)
        return PassResult(revision=None, error=str(error), source_error=error)
    first = _reconcile(ports, config, revision, manifests, follow_up=False)
    result, final = first.result, first.kept
    late = frozenset(e.resource for e in result.executions if e.not_ready)
    if late:
        # A change that gave up at its readiness deadline is planned again at once, from what
        # Flink says now: rolled back (or reported blocked) by this pass, not the next one.
        again = _reconcile(ports, replace(config, only=late), revision, manifests, follow_up=True)
        result, final = result.then(again.result), {**final, **again.kept}
    config.settled.record(result, ports.clock.monotonic())
    measuring.measure_pass(ports, result, final)
    _tell(config.notifier, result, first.loaded, final, ports.clock.now())
    return result


@dataclass(frozen=True)
class _Reconciled:
    result: PassResult
    loaded: Mapping[ResourceId, ResourceStatus]  # as the pass found them
    kept: Mapping[ResourceId, ResourceStatus | None]  # as it recorded them


def _reconcile(
    ports: Ports, config: PassConfig, revision: Revision, manifests: Manifests, *, follow_up: bool
) -> _Reconciled:
    """Observe, plan, execute and record the manifests read at `revision`. A `follow_up` plans
    `config.only` again within a pass: it records only those, announces nothing new."""
    problems = (*manifests.problems, *_plugin_problems(config.plugin_errors))
    lap = ports.clock.monotonic()
    loaded = ports.status.load_all()
    statuses = dict(loaded)
    # A status document the store could not read holds back its own resource (its job is left
    # alone, its document is not overwritten); every other resource proceeds.
    corrupt = corrupt_of(loaded)
    held = {c.resource: str(c) for c in corrupt if c.resource is not None}
    for document in corrupt:
        log.error("%s", document)
    desired = with_default_configuration(manifests.parsed.desired, config.flink_defaults)
    resources = [d.resource for d in desired]
    observation = observe(ports, resources, statuses)
    known_files = removal.known_files(manifests.known_files, manifests.problems, statuses)
    plan = planning.plan_changes(
        desired,
        observation.observed,
        prune=config.prune,
        problems=problems,
        head=revision.sha,
        known_files=known_files,
        prune_guard=config.prune_guard,
        source=config.source_id,
        healing=replace(config.healing, now=ports.clock.now()),
    )
    only = config.only
    if only is not None:  # with the session jobs a cluster's plan stops and resubmits
        only = only | {j.resource for j in plan.jobs if j.carried_by in only}
        plan = replace(plan, jobs=tuple(j for j in plan.jobs if j.resource in only))
    unreachable = {**observation.unreachable, **held}
    lap = measuring.lap(ports, "plan", lap)
    notifier = config.notifier
    if not follow_up:
        notifier.deliver(notifier.revisions.started(revision.sha, plan, ports.clock.now()))
    own, latest = _execute(ports, plan, statuses, unreachable, revision=revision, config=config)
    lap = measuring.lap(ports, "execute", lap)
    # A follow-up leaves every other resource's status as the pass recorded it.
    untouched = frozenset(statuses) - (only or frozenset()) if follow_up else frozenset()
    kept = record(
        ports,
        PassRecord(
            loaded=statuses,
            source=SourceState(ok=True, message=f"read {revision.short}"),
            revision=revision.sha,
            plan=plan,
            latest=latest,
            executions=own,
            observed=observation.observed,
            problems=problems,
            known_files=known_files,
            held=frozenset(held) | untouched,
            owner=config.source_id,
            stable_after=timedelta(seconds=config.stable_after),
        ),
    )
    measuring.lap(ports, "status", lap)
    reverting.publish(ports, plan, own, revision)
    executions = tuple(own[job.resource] for job in plan.jobs if job.resource in own)
    result = PassResult(
        revision,
        plan,
        executions,
        tuple(problems),
        corrupt=corrupt,
        unhealthy=unhealthy(kept),
    )
    return _Reconciled(result, statuses, kept)


def _tell(
    notifier: Notifier,
    result: PassResult,
    loaded: Mapping[ResourceId, ResourceStatus],
    kept: Mapping[ResourceId, ResourceStatus | None],
    now: datetime,
) -> None:
    """Tell the listeners; never raises: the pass's outcome stands whatever telling it does."""
    if not notifier.listeners or result.revision is None or result.plan is None:
        return
    try:
        _tell_all(notifier, result, loaded, kept, now)
    except NotLeader:
        raise  # the pass stops as at any fenced write: nothing more goes out
    except Exception as error:
        log.error("listeners not told: %s: %s", type(error).__name__, error)


def _tell_all(
    notifier: Notifier,
    result: PassResult,
    loaded: Mapping[ResourceId, ResourceStatus],
    kept: Mapping[ResourceId, ResourceStatus | None],
    now: datetime,
) -> None:
    assert result.revision is not None and result.plan is not None
    sha = result.revision.sha
    found: list[Notice] = [*notices.status_changes(loaded, kept, sha, now)]
    found += notices.events(result.executions, result.problems, sha, now)
    description = notices.summary(result.plan, result.executions, result.problems)
    found += notifier.revisions.finished(sha, result.ok, description, now)
    notifier.deliver(found)


def _plugin_problems(errors: Sequence[str]) -> list[Problem]:
    return [Problem(f"plugin {error}", 0, 0, "", "could not load") for error in errors]


def _execute(
    ports: Ports,
    plan: Plan,
    statuses: Mapping[ResourceId, ResourceStatus],
    unreachable: Mapping[ResourceId, str],
    *,
    revision: Revision,
    config: PassConfig,
) -> tuple[dict[ResourceId, Execution], dict[ResourceId, ResourceStatus]]:
    """Run the plan phase by phase (stops before starts, clusters before their jobs), each
    phase's resources in parallel. Returns each resource's own execution (a carried session
    job's is the part its cluster's plan ran for it) and each status as the steps left it,
    which later phases start from."""
    latest: dict[ResourceId, ResourceStatus] = dict(statuses)
    own: dict[ResourceId, Execution] = {}
    changed: dict[ResourceId, ResourceStatus] = {}

    def one(job: JobPlan) -> Execution:
        if job.resource in unreachable:
            reason = unreachable[job.resource]
            config.progress.done(job.resource, reason, ok=False)
            status = latest.get(job.resource)
            return Execution(job.resource, job.action, False, status, (), reason, Next.WAIT)
        return execute(
            ports,
            job,
            latest.get(job.resource),
            revision=revision.sha,
            progress=config.progress,
            timeouts=config.timeouts,
            carried=_carried(plan, job, latest),
        )

    with ThreadPoolExecutor(max_workers=max(1, config.max_workers)) as pool:
        for _, jobs in groupby(plan.jobs, key=phase):
            batch = list(jobs)
            running = [pool.submit(one, job) for job in batch if job.steps]
            # A plan without steps only reports: a thread hop would cost more than it does.
            results = [one(job) for job in batch if not job.steps]
            results += [future.result() for future in running]
            for execution in results:
                if execution.resource not in own or execution.ran:
                    own[execution.resource] = execution
                for part in (execution, *execution.carried):
                    if part.status is not None and part.ran:
                        latest[part.resource] = changed[part.resource] = part.status
                for part in execution.carried:
                    carried = plan.for_resource(part.resource)
                    if carried is not None and carried.carried_by == execution.resource:
                        own[part.resource] = part
    return own, changed


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
