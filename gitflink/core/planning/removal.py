"""Resources removed from Git (delete, or orphaned when pruning is off; a mass prune refused)
(a FlinkStateSnapshot's own removal: snapshots.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gitflink.core import diffing
from gitflink.core.planning.facts import DRAIN_ON_DELETION, SAVEPOINT_ON_DELETION
from gitflink.core.rendering.configuring import ha_enabled
from gitflink.model.flinkconf import flatten_configuration
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    JobPlan,
    Step,
    StopCluster,
    StopJob,
)
from gitflink.model.problems import Problem
from gitflink.model.resources import AnyResource, UpgradeMode


def plan_removed(
    resource: ResourceId, observed: Observed, *, prune: bool, file: str | None = None
) -> JobPlan:
    """Removed from Git: delete (a final savepoint when the resource asks), or keep and report."""
    if not prune:
        return JobPlan(
            resource,
            Action.ORPHANED,
            DiffClass.REMOVED,
            file=file,
            risks=("removed from Git but left running: pruning is off",),
        )
    spec: dict[str, Any] = {}
    if observed.status is not None:
        spec = observed.status.reconciliation.last_applied_spec or {}
    job: dict[str, Any] = spec.get("job") or {}
    config: dict[str, Any] = spec.get(diffing.CONFIG_FIELD) or {}
    mode = UpgradeMode(job.get("upgradeMode", UpgradeMode.STATELESS.value)) if job else None
    steps: list[Step] = []
    risks: list[str] = []
    state_loss = False
    running = observed.job is not None and observed.job.is_running
    if job and mode is not None:
        stateful = mode is not UpgradeMode.STATELESS
        # Unlike upstream (default false), a stateful job's state is kept by default: only a
        # manifest that said "false" before its removal lets a delete discard it.
        final_savepoint = _flag(config, SAVEPOINT_ON_DELETION, default=stateful)
        if running and final_savepoint:
            drain = _flag(config, DRAIN_ON_DELETION, default=False)
            steps.append(StopJob(resource, UpgradeMode.SAVEPOINT, drain=drain))
        elif running:
            steps.append(StopJob(resource, UpgradeMode.STATELESS))
            state_loss = stateful
            if stateful:
                risks.append(
                    f"the job's state is discarded: its manifest set {SAVEPOINT_ON_DELETION}: "
                    '"false"'
                )
        elif final_savepoint:
            # Do not wait for a savepoint a stopped job cannot take (FLINK-40388).
            risks.append("the job is not running: no final savepoint can be taken")
            state_loss = stateful
    if resource.kind is Kind.FLINK_DEPLOYMENT:
        # Deleted for good: Flink's HA metadata goes too (there is none without HA).
        steps.append(StopCluster(resource, keep_ha=not ha_enabled(flatten_configuration(config))))
        if not job:
            risks.append("session cluster deleted: every job still running on it stops")
    return JobPlan(
        resource,
        Action.DELETE,
        DiffClass.REMOVED,
        file=file,
        upgrade_mode=mode,
        state_loss=state_loss,
        downtime=Downtime.RESTART if running or not job else Downtime.NONE,
        steps=tuple(steps),
        risks=tuple(risks),
    )


def _flag(config: dict[str, Any], key: str, *, default: bool) -> bool:
    if key not in config:
        return default
    return str(config[key]).strip().lower() == "true"


@dataclass(frozen=True, slots=True)
class PruneGuard:
    """Deleting many resources at once is refused unless allowed: a mistyped path or an
    emptied directory must never cancel every job."""

    max_share: float = 0.5  # of the deployed resources, in one revision
    allowed: bool = False


def guard(
    removals: list[JobPlan], deployed: int, desired: int, prune_guard: PruneGuard
) -> list[JobPlan]:
    """`removals` as planned, or each blocked with the reason when they are a mass prune."""
    deletes = [job for job in removals if job.action is Action.DELETE]
    if prune_guard.allowed or not deletes or deployed == 0:
        return removals
    share = len(deletes) / deployed
    if desired > 0 and (len(deletes) < 2 or share <= prune_guard.max_share):
        return removals
    why = (
        "no Flink manifests are left in Git"
        if desired == 0
        else f"{share:.0%} of them, more than the {prune_guard.max_share:.0%} allowed at once"
    )
    reason = (
        f"mass prune refused: this revision would delete {len(deletes)} of {deployed} deployed "
        f"resources ({why}). Check --path and the manifests; to delete them on purpose, run "
        "with --allow-mass-prune (GITFLINK_ALLOW_MASS_PRUNE=true)"
    )
    return [
        replace(job, action=Action.BLOCKED, steps=(), blocked=reason, risks=(reason,))
        if job.action is Action.DELETE
        else job
        for job in removals
    ]


def conflict(resource: AnyResource, file: str | None, owner: str) -> JobPlan:
    """A resource another source manages: reported, never changed (Argo CD's shared resource
    warning, Flux's inventory)."""
    reason = (
        f"conflict: {resource.id.short} is managed by another source ({owner}); it is left as "
        "it is. Remove it from one of the two, or sync the source that manages it"
    )
    return _held(resource, file, reason)


def foreign(resource: AnyResource, file: str | None, why: str) -> JobPlan:
    """A resource whose cluster another status store manages: reported, never changed."""
    return _held(resource, file, f"conflict: {why}")


def _held(resource: AnyResource, file: str | None, reason: str) -> JobPlan:
    return JobPlan(
        resource.id,
        Action.BLOCKED,
        DiffClass.NONE,
        file=file,
        desired=resource,
        blocked=reason,
        risks=(reason,),
    )


def known_files(
    declared: Mapping[ResourceId, str], problems: Iterable[Problem], recorded: Iterable[ResourceId]
) -> dict[ResourceId, str]:
    """Where each resource was declared, so that a file Git cannot parse holds back the
    deletion of what it declared. A recorded resource whose file is unknown (first pass after a
    restart, or `gitflink plan` against a status store) may be in any broken file: it is held
    too, never deleted on a guess."""
    known = dict(declared)
    broken = sorted({p.file for p in problems if p.is_error and p.resource is None})
    if broken:
        for rid in recorded:
            known.setdefault(rid, broken[0])
    return known
