"""A one-off savepoint of a running job now (`gitflink savepoint`), outside any pass: run as a
plan of one TakeSavepoint step and recorded like a pass records it (lineage, history of
savepoints). Against an agent's store it is asked for instead (`request_savepoint`): the agent
takes it on its next pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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


def one_off_key(now: datetime) -> str:
    """A new key each call: a one-off savepoint is a new request every time it is asked for."""
    return f"{ONE_OFF_USE}@{now.isoformat()}"


def request_savepoint(
    resource: ResourceId, key: str
) -> Callable[[ResourceStatus | None], ResourceStatus]:
    """The change that asks an agent for a one-off savepoint under `key` (its next pass takes
    it: core.planning.housekeeping); raises NothingToSnapshot as `savepoint_now` does. A
    savepoint already asked for and not taken yet stays the one asked for."""

    def change(status: ResourceStatus | None) -> ResourceStatus:
        if status is None or not status.job_status.job_id:
            raise NothingToSnapshot(f"{resource.short} has no job recorded: nothing to snapshot")
        if status.reconciliation.last_applied_spec is None:
            raise NothingToSnapshot(f"{resource.short} is not deployed (deleted?)")
        asked = status.model_copy(deep=True)
        asked.job_status.savepoint_request = status.job_status.savepoint_request or key
        return asked

    return change


def savepoint_now(
    ports: Ports, resource: ResourceId, status: ResourceStatus, progress: Progress | None = None
) -> Snapshot:
    """The savepoint taken and recorded; raises GitflinkError when it cannot be taken."""
    if resource.kind is Kind.FLINK_STATE_SNAPSHOT or not status.job_status.job_id:
        raise NothingToSnapshot(f"{resource.short} has no job recorded: nothing to snapshot")
    if status.reconciliation.last_applied_spec is None:
        raise NothingToSnapshot(f"{resource.short} is not deployed (deleted?)")
    step = TakeSavepoint(resource, "MANUAL", ONE_OFF_USE, one_off_key(ports.clock.now()))
    plan = JobPlan(resource, Action.SAVEPOINT, DiffClass.NONE, steps=(step,))
    revision = status.applied_revision
    execution = execute(ports, plan, status, revision=revision, progress=progress)
    if not execution.ok or execution.status is None:
        raise GitflinkError(f"savepoint of {resource.short} failed: {execution.error}")
    record_execution(ports, plan, execution, revision=revision)
    taken = execution.status.job_status.last_savepoint
    assert taken is not None  # the step records it before it returns
    return taken
