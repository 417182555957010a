"""Resources removed from Git (delete, or orphaned when pruning is off) and FlinkStateSnapshots."""

from __future__ import annotations

from typing import Any

from gitflink.core import diffing
from gitflink.core.planning.facts import DRAIN_ON_DELETION, SAVEPOINT_ON_DELETION
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    JobPlan,
    RecordSpec,
    Step,
    StopCluster,
    StopJob,
    TakeCheckpoint,
    TakeSavepoint,
)
from gitflink.model.resources import FlinkStateSnapshot, UpgradeMode


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
    if resource.kind is Kind.FLINK_STATE_SNAPSHOT:
        return JobPlan(resource, Action.DELETE, DiffClass.REMOVED, file=file)
    job: dict[str, Any] = spec.get("job") or {}
    config: dict[str, Any] = spec.get(diffing.CONFIG_FIELD) or {}
    mode = UpgradeMode(job.get("upgradeMode", UpgradeMode.STATELESS.value)) if job else None
    steps: list[Step] = []
    risks: list[str] = []
    state_loss = False
    running = observed.job is not None and observed.job.is_running
    if job and mode is not None:
        final_savepoint = _flag(config, SAVEPOINT_ON_DELETION)
        stateful = mode is not UpgradeMode.STATELESS
        if running and final_savepoint:
            drain = _flag(config, DRAIN_ON_DELETION)
            steps.append(StopJob(resource, UpgradeMode.SAVEPOINT, drain=drain))
        elif running:
            steps.append(StopJob(resource, UpgradeMode.STATELESS))
            state_loss = stateful
            if stateful:
                risks.append(
                    f"the job's state is discarded: set {SAVEPOINT_ON_DELETION}: "
                    '"true" to keep a final savepoint'
                )
        elif final_savepoint:
            # Do not wait for a savepoint a stopped job cannot take (FLINK-40388).
            risks.append("the job is not running: no final savepoint can be taken")
            state_loss = stateful
    if resource.kind is Kind.FLINK_DEPLOYMENT:
        steps.append(StopCluster(resource))
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


def _flag(config: dict[str, Any], key: str) -> bool:
    return str(config.get(key, "false")).strip().lower() == "true"


def plan_snapshot(
    snapshot: FlinkStateSnapshot, file: str | None, observed: Observed | None
) -> JobPlan:
    """A new snapshot resource triggers a savepoint or checkpoint of the job it references;
    an existing one is never re-triggered (change the job's trigger nonce for that)."""
    spec = snapshot.spec
    resource = snapshot.id
    if observed is not None and observed.deployed:
        return JobPlan(resource, Action.NONE, DiffClass.NONE, file=file, desired=snapshot)
    reference = spec.job_reference
    if spec.savepoint is not None and spec.savepoint.already_exists:
        return JobPlan(
            resource,
            Action.NONE,
            DiffClass.NEW,
            file=file,
            desired=snapshot,
            steps=(RecordSpec(resource),),
            notes=(f"registers the existing savepoint {spec.savepoint.path}",),
        )
    if reference is None:
        return JobPlan(
            resource,
            Action.BLOCKED,
            DiffClass.NEW,
            file=file,
            desired=snapshot,
            blocked="a snapshot to take needs spec.jobReference",
        )
    target = ResourceId(Kind(reference.kind), resource.namespace, reference.name)
    step: Step = TakeSavepoint(target) if spec.savepoint is not None else TakeCheckpoint(target)
    action = Action.SAVEPOINT if spec.savepoint is not None else Action.CHECKPOINT
    return JobPlan(resource, action, DiffClass.NEW, file=file, desired=snapshot, steps=(step,))
