"""A one-off savepoint of a running job now (`gitflink savepoint`), outside any pass: run as a
plan of one TakeSavepoint step and recorded like a pass records it (lineage, history of
savepoints), so a status branch gets it as a commit."""

from __future__ import annotations

from gitflink.model.errors import GitflinkError, Next
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import ONE_OFF_USE, Action, DiffClass, JobPlan, TakeSavepoint
from gitflink.model.status import ResourceStatus, Snapshot
from gitflink.ports import Ports
from gitflink.runtime.executor import execute
from gitflink.runtime.progress import Progress
from gitflink.runtime.recording import record_execution


class NothingToSnapshot(GitflinkError):
    next = Next.STALL


def savepoint_now(
    ports: Ports, resource: ResourceId, status: ResourceStatus, progress: Progress | None = None
) -> Snapshot:
    """The savepoint taken and recorded; raises GitflinkError when it cannot be taken."""
    if resource.kind is Kind.FLINK_STATE_SNAPSHOT or not status.job_status.job_id:
        raise NothingToSnapshot(f"{resource.short} has no job recorded: nothing to snapshot")
    if status.reconciliation.last_applied_spec is None:
        raise NothingToSnapshot(f"{resource.short} is not deployed (deleted?)")
    # A new key each call: a one-off savepoint is a new request every time it is asked for.
    key = f"{ONE_OFF_USE}@{ports.clock.now().isoformat()}"
    step = TakeSavepoint(resource, "MANUAL", ONE_OFF_USE, key)
    plan = JobPlan(resource, Action.SAVEPOINT, DiffClass.NONE, steps=(step,))
    revision = status.applied_revision
    execution = execute(ports, plan, status, revision=revision, progress=progress)
    if not execution.ok or execution.status is None:
        raise GitflinkError(f"savepoint of {resource.short} failed: {execution.error}")
    record_execution(ports, plan, execution, revision=revision)
    taken = execution.status.job_status.last_savepoint
    assert taken is not None  # the step records it before it returns
    return taken
