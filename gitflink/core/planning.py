"""Plan: (what is deployed, what Git now says, what Flink reports) -> one JobPlan per resource.

Pure and deterministic. The rules are in planning_job (jobs), planning_session (session
clusters), planning_removal (deletes, snapshots) and planning_restore; docs/planning.md has the
table of scenarios.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from pydantic import ValidationError

from gitflink.core import diffing, planning_job, planning_removal, planning_session
from gitflink.core.planning_context import JobContext, JobSpecOwner
from gitflink.core.planning_restore import new_job_started
from gitflink.model.fingerprints import unredact
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import Action, Baseline, DiffClass, JobPlan, Plan
from gitflink.model.problems import Problem
from gitflink.model.resources import (
    AnyResource,
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkStateSnapshot,
)

_STOPPING = frozenset({Action.DELETE, Action.SUSPEND, Action.ORPHANED})
_STOP_RANK = {Kind.FLINK_STATE_SNAPSHOT: 0, Kind.FLINK_SESSION_JOB: 1, Kind.FLINK_DEPLOYMENT: 2}
_START_RANK = {Kind.FLINK_DEPLOYMENT: 3, Kind.FLINK_SESSION_JOB: 4, Kind.FLINK_STATE_SNAPSHOT: 5}


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
) -> Plan:
    """One JobPlan per resource, in the order the executor should run them.

    A resource with an error problem gets no plan and keeps its last applied spec; a file with
    an unattributed error holds back the deletion of every resource last seen in it.
    """
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
    contexts = {
        rid: _context(record, observed.get(rid) or Observed(), wanted)
        for rid, record in wanted.items()
        if not isinstance(record.resource, FlinkStateSnapshot)
    }
    plans: dict[ResourceId, JobPlan] = {}
    carried: dict[ResourceId, JobPlan] = {}
    for rid, ctx in contexts.items():
        if isinstance(ctx, JobPlan):
            plans[rid] = ctx
        elif isinstance(ctx.desired, FlinkDeployment) and ctx.desired.spec.job is None:
            jobs = [c for c in contexts.values() if isinstance(c, JobContext) and _runs_on(c, rid)]
            plans[rid], more = planning_session.plan_cluster(ctx, jobs)
            carried.update(more)
        elif ctx.deployed is None:
            plans[rid] = planning_job.plan_new(ctx)
        else:
            plans[rid] = planning_job.plan_existing(ctx)
    plans.update(carried)
    for rid, record in wanted.items():
        if isinstance(record.resource, FlinkStateSnapshot):
            plans[rid] = planning_removal.plan_snapshot(
                record.resource, record.file, observed.get(rid)
            )
    for rid, seen in observed.items():
        if rid in wanted or not seen.deployed:
            continue
        if rid in held or files.get(rid) in broken_files:
            plan_notes.append(f"{rid}: not planned while its manifest has errors")
            continue
        plans[rid] = planning_removal.plan_removed(rid, seen, prune=prune, file=files.get(rid))
    return Plan(
        jobs=tuple(sorted(plans.values(), key=_order)),
        problems=problems,
        baseline=baseline,
        base=base,
        head=head,
        notes=tuple(plan_notes),
    )


def _order(plan: JobPlan) -> tuple[int, ResourceId]:
    """Stops first (snapshots, session jobs, then clusters), then starts (clusters first)."""
    if plan.action in _STOPPING:
        return _STOP_RANK[plan.resource.kind], plan.resource
    return _START_RANK[plan.resource.kind], plan.resource


def _runs_on(ctx: JobContext, cluster: ResourceId) -> bool:
    if not isinstance(ctx.desired, FlinkSessionJob):
        return False
    return ctx.deployed is not None and _cluster_id(ctx.desired) == cluster


def _cluster_id(job: FlinkSessionJob) -> ResourceId:
    return ResourceId(Kind.FLINK_DEPLOYMENT, job.metadata.namespace, job.spec.deployment_name)


def _context(
    record: DesiredLike, observed: Observed, wanted: Mapping[ResourceId, DesiredLike]
) -> JobContext | JobPlan:
    resource = record.resource
    assert isinstance(resource, FlinkDeployment | FlinkSessionJob)
    cluster = None
    if isinstance(resource, FlinkSessionJob):
        host = wanted.get(_cluster_id(resource))
        if host is not None and isinstance(host.resource, FlinkDeployment):
            cluster = host.resource.spec
    deployed_dict = _deployed_dict(observed)
    if deployed_dict is None:
        return JobContext(resource.id, resource, record.file, observed, None, cluster=cluster)
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
    changes = diffing.diff_specs(deployed, resource.spec)
    return JobContext(
        resource.id, resource, record.file, observed, deployed, changes, cluster=cluster
    )


def _deployed_dict(observed: Observed) -> dict[str, object] | None:
    """The spec that runs now: the last applied one, or the target of an interrupted plan
    whose new job already runs."""
    status = observed.status
    if status is None:
        return None
    if status.pending is not None and new_job_started(status, observed):
        return status.pending.target_spec
    return status.reconciliation.last_applied_spec
