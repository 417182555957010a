"""FlinkStateSnapshot resources: a new one triggers a savepoint or checkpoint of the job it
references (or registers an existing savepoint, `alreadyExists`); a failed trigger is retried up
to `backoffLimit` times; one whose job does not run is abandoned; one removed from Git has its
data disposed when `disposeOnDelete` says so. The operator's states: docs/savepoints.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import (
    ABANDONED,
    Action,
    DiffClass,
    DisposeSnapshot,
    JobPlan,
    RecordSpec,
    Step,
    SubmitJob,
    TakeCheckpoint,
    TakeSavepoint,
)
from gitflink.model.resources import FlinkStateSnapshot
from gitflink.model.status import SnapshotState

FINAL = frozenset({SnapshotState.COMPLETED, SnapshotState.FAILED, SnapshotState.ABANDONED})


def plan_snapshot(
    snapshot: FlinkStateSnapshot,
    file: str | None,
    observed: Observed | None,
    job: Observed | None,
    job_plan: JobPlan | None,
) -> JobPlan:
    """`job`: what is observed of the referenced job; `job_plan`: its plan in this pass (a job
    deployed in the same revision is snapshotted once it runs, never abandoned for it)."""
    spec = snapshot.spec
    resource = snapshot.id
    status = observed.status if observed is not None else None
    tracked = status.snapshot if status is not None else None
    if (observed is not None and observed.deployed) or (tracked and tracked.state in FINAL):
        return JobPlan(resource, Action.NONE, DiffClass.NONE, file=file, desired=snapshot)
    if spec.savepoint is not None and spec.savepoint.already_exists:
        if not spec.savepoint.path:
            reason = "savepoint.alreadyExists needs savepoint.path"
            return _blocked(snapshot, file, reason)
        return JobPlan(
            resource,
            Action.NONE,
            DiffClass.NEW,
            file=file,
            desired=snapshot,
            steps=(RecordSpec(resource),),
            notes=(f"registers the existing savepoint {spec.savepoint.path}",),
        )
    reference = spec.job_reference
    if reference is None:
        return _blocked(snapshot, file, "a snapshot to take needs spec.jobReference")
    target = ResourceId(Kind(reference.kind), resource.namespace, reference.name)
    # Abandoned only when the job is known and known not to run (nor to start in this pass);
    # a job nothing is known of fails the trigger, counted against backoffLimit.
    stopped = job is not None and job.status is not None and not _runs(job)
    starting = job_plan is not None and any(isinstance(s, SubmitJob) for s in job_plan.steps)
    if stopped and not starting:
        return _blocked(snapshot, file, f"{ABANDONED}job {target.short} is not running")
    failures = tracked.failures if tracked is not None else 0
    key = f"{resource}#{failures}"  # a new key per attempt; the same one after a crash
    use = f"snapshot {resource.name}"
    step: Step
    if spec.savepoint is not None:
        step = TakeSavepoint(target, "MANUAL", use, key, owner=resource.short)
    else:
        step = TakeCheckpoint(target, "MANUAL", use, key, owner=resource.short)
    action = Action.SAVEPOINT if spec.savepoint is not None else Action.CHECKPOINT
    notes = (f"attempt {failures + 1}",) if failures else ()
    return JobPlan(
        resource, action, DiffClass.NEW, file=file, desired=snapshot, steps=(step,), notes=notes
    )


def _runs(job: Observed) -> bool:
    return job.job is not None and job.job.is_running


def plan_removed(resource: ResourceId, observed: Observed, file: str | None) -> JobPlan:
    """Removed from Git: its status goes; its data too when its spec said disposeOnDelete."""
    status = observed.status
    spec: Mapping[str, Any] = {}
    if status is not None:
        spec = status.reconciliation.last_applied_spec or {}
    savepoint = spec.get("savepoint") or {}
    reference = spec.get("jobReference") or {}
    path = status.snapshot.path if status is not None and status.snapshot else None
    if path is None and status is not None and status.job_status.last_savepoint is not None:
        path = status.job_status.last_savepoint.path  # recorded before the snapshot status was
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()
    if savepoint.get("disposeOnDelete") and path:
        if reference.get("kind") and reference.get("name"):
            job = ResourceId(Kind(reference["kind"]), resource.namespace, reference["name"])
            steps = (DisposeSnapshot(resource, path, job),)
        else:
            notes = (f"data of {path} kept: no jobReference names a cluster to dispose it",)
    elif path:
        notes = (f"data of {path} kept (disposeOnDelete is not set)",)
    return JobPlan(resource, Action.DELETE, DiffClass.REMOVED, file=file, steps=steps, notes=notes)


def _blocked(snapshot: FlinkStateSnapshot, file: str | None, reason: str) -> JobPlan:
    return JobPlan(
        snapshot.id,
        Action.BLOCKED,
        DiffClass.NEW,
        file=file,
        desired=snapshot,
        blocked=reason,
    )
