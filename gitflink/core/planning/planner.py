"""Plan: (what Git says, what was last applied, what is observed now) -> one JobPlan per resource.

Pure and deterministic: the same inputs in any order give the same plan. The rules are in jobs
(a job Git changes), interrupted (a change a crash interrupted), sessions (session clusters),
removal (deletes, snapshots), scaling and restoring; docs/planning.md has the table of scenarios.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from pydantic import ValidationError

from gitflink.core import diffing
from gitflink.core.planning import jobs, readiness, refusals, removal, sessions, snapshots
from gitflink.core.planning.facts import Facts, Healing, JobSpecOwner
from gitflink.core.planning.topology import order, session_cluster
from gitflink.model.fingerprints import unredact
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import Action, Baseline, DiffClass, JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.resources import (
    AnyResource,
    DeploymentMode,
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkStateSnapshot,
)


class DesiredLike(Protocol):
    """A resource as Git declares it (core.parsing.Desired fits)."""

    @property
    def resource(self) -> AnyResource: ...

    @property
    def file(self) -> str: ...


def plan_changes(
    desired: Sequence[DesiredLike],
    observed: Mapping[ResourceId, Observed],
    *,
    prune: bool = True,
    problems: Iterable[Problem] = (),
    baseline: Baseline = Baseline.DEPLOYED,
    base: str | None = None,
    head: str | None = None,
    known_files: Mapping[ResourceId, str] | None = None,
    notes: Iterable[str] = (),
    prune_guard: removal.PruneGuard | None = None,
    source: str | None = None,
    healing: Healing | None = None,
) -> Plan:
    """One JobPlan per resource, in the order the executor should run them.

    A resource with an error problem gets no plan and keeps its last applied spec; a file with
    an unattributed error holds back the deletion of every resource last seen in it. With a
    `source`, only what that source manages is pruned, and a resource another source manages
    is a conflict, never changed. `healing`: how what runs differently from Git is converged
    (the time `now` included, for backoffs).
    """
    policy = healing or Healing()
    problems = tuple(problems)
    held = {p.resource for p in problems if p.is_error and p.resource is not None}
    broken_files = {p.file for p in problems if p.is_error and p.resource is None}
    files = dict(known_files or {})
    wanted: dict[ResourceId, DesiredLike] = {}
    for record in desired:
        if record.resource.id not in held:
            wanted.setdefault(record.resource.id, record)
        files.setdefault(record.resource.id, record.file)
    plan_notes = list(notes)
    plans: dict[ResourceId, JobPlan] = {}
    for rid, record in sorted(wanted.items()):
        owner = _owner(observed.get(rid))
        foreign = (observed.get(rid) or Observed()).foreign
        if foreign is not None:
            plans[rid] = removal.foreign(record.resource, record.file, foreign)
        elif source is not None and owner is not None and owner != source:
            plans[rid] = removal.conflict(record.resource, record.file, owner)
    wanted = {rid: record for rid, record in wanted.items() if rid not in plans}
    every = {
        rid: _facts(record, observed.get(rid) or Observed(), wanted, policy)
        for rid, record in sorted(wanted.items())
        if not isinstance(record.resource, FlinkStateSnapshot)
    }
    carried: dict[ResourceId, JobPlan] = {}
    refusal_problems: list[Problem] = []
    for rid, facts in every.items():
        if isinstance(facts, JobPlan):
            plans[rid] = facts
        elif facts.deployed is not None and (refused := refusals.refusal(facts)):
            plans[rid] = facts.plan(Action.BLOCKED, blocked=refused.reason)
            refusal_problems.append(_refusal_problem(wanted[rid], refused))
        elif isinstance(facts.desired, FlinkDeployment) and facts.desired.spec.job is None:
            on = [f for f in every.values() if isinstance(f, Facts) and _runs_on(f, rid)]
            plans[rid], more = sessions.plan_cluster(facts, on)
            carried.update(more)
        elif facts.deployed is None:
            plans[rid] = jobs.plan_new(facts)
        else:
            plans[rid] = jobs.plan_existing(facts)
    plans.update(carried)  # a session job its cluster restarts: planned by the cluster's plan
    for rid, facts in every.items():
        if isinstance(facts, Facts) and rid in plans:
            plans[rid] = readiness.timed(facts, plans[rid])
    for rid, record in wanted.items():
        if isinstance(record.resource, FlinkStateSnapshot):
            plans[rid] = _snapshot(record.resource, record.file, observed, plans)
    mine = {
        rid: seen
        for rid, seen in observed.items()
        if source is None or _owner(seen) in (None, source)
    }
    removed: list[JobPlan] = []
    for rid, seen in sorted(mine.items()):
        if rid in wanted or rid in plans or not seen.deployed:
            continue
        if seen.foreign is not None:
            plan_notes.append(f"{rid.short}: not deleted: {seen.foreign}")
            continue
        if rid in held or files.get(rid) in broken_files:
            plan_notes.append(f"{rid}: not planned while its manifest has errors")
            continue
        if prune and rid.kind is Kind.FLINK_STATE_SNAPSHOT:
            removed.append(snapshots.plan_removed(rid, seen, files.get(rid)))
        else:
            removed.append(removal.plan_removed(rid, seen, prune=prune, file=files.get(rid)))
    deployed = sum(1 for seen in mine.values() if seen.deployed)
    for job in removal.guard(removed, deployed, len(wanted), prune_guard or removal.PruneGuard()):
        plans[job.resource] = job
    return Plan(
        jobs=tuple(sorted(plans.values(), key=order)),
        problems=(*problems, *refusal_problems),
        baseline=baseline,
        base=base,
        head=head,
        notes=tuple(plan_notes),
    )


def _snapshot(
    snapshot: FlinkStateSnapshot,
    file: str,
    observed: Mapping[ResourceId, Observed],
    plans: Mapping[ResourceId, JobPlan],
) -> JobPlan:
    reference = snapshot.spec.job_reference
    job = None
    if reference is not None:
        job = ResourceId(Kind(reference.kind), snapshot.metadata.namespace, reference.name)
    seen, job_plan = (observed.get(job), plans.get(job)) if job else (None, None)
    return snapshots.plan_snapshot(snapshot, file, observed.get(snapshot.id), seen, job_plan)


def _refusal_problem(record: DesiredLike, refused: refusals.Refusal) -> Problem:
    """A refused change is an error of its manifest, at the field when the record knows where
    (core.parsing.Desired does), else at its file."""
    locate = getattr(record, "problem", None)
    if callable(locate):
        found = locate(refused.field, refused.reason)
        if isinstance(found, Problem):
            return found
    return Problem(record.file, 0, 0, refused.field, refused.reason, resource=record.resource.id)


def _owner(observed: Observed | None) -> str | None:
    status = observed.status if observed is not None else None
    return status.source if status is not None else None


def _runs_on(facts: Facts, cluster: ResourceId) -> bool:
    if not isinstance(facts.desired, FlinkSessionJob):
        return False
    carried = facts.deployed is not None and session_cluster(facts.desired) == cluster
    return carried and refusals.refusal(facts) is None  # a refused move stays blocked


def _facts(
    record: DesiredLike,
    observed: Observed,
    wanted: Mapping[ResourceId, DesiredLike],
    healing: Healing,
) -> Facts | JobPlan:
    resource = record.resource
    assert isinstance(resource, FlinkDeployment | FlinkSessionJob)
    cluster = None
    if isinstance(resource, FlinkSessionJob):
        host = wanted.get(session_cluster(resource))
        if host is not None and isinstance(host.resource, FlinkDeployment):
            cluster = host.resource.spec
    status = observed.status
    deployed_dict = status.reconciliation.last_applied_spec if status is not None else None
    if deployed_dict is None:
        return Facts(
            resource.id, resource, record.file, observed, None, cluster=cluster, healing=healing
        )
    # Status documents hold fingerprints of secrets; an unchanged secret is no change.
    deployed_dict = unredact(deployed_dict, resource.spec.model_dump(by_alias=True, mode="json"))
    model: type[JobSpecOwner] = (
        FlinkDeploymentSpec if isinstance(resource, FlinkDeployment) else FlinkSessionJobSpec
    )
    try:
        deployed = model.model_validate(deployed_dict)
    except ValidationError as error:
        reason = f"the last applied spec cannot be read ({error.error_count()} errors)"
        return JobPlan(
            resource.id,
            Action.BLOCKED,
            DiffClass.NONE,
            file=record.file,
            desired=resource,
            blocked=reason,
            risks=(reason,),
        )
    runs_on = resource.spec if isinstance(resource, FlinkDeployment) else cluster
    standalone = runs_on is not None and runs_on.mode is DeploymentMode.STANDALONE
    changes = diffing.diff_specs(deployed, resource.spec, standalone=standalone)
    return Facts(
        resource.id,
        resource,
        record.file,
        observed,
        deployed,
        changes,
        cluster=cluster,
        healing=healing,
    )
