"""The Flink REST behaviour gitflink relies on, as checks run against the fake of the runtime
tests and against real Flink (tests/flink), so the fake cannot drift from Flink."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from gitflink.model.errors import FlinkHttpError
from gitflink.model.flink import OperationState, RunRequest
from gitflink.ports import FlinkApi
from gitflink.runtime.context import same_path
from gitflink.runtime.disposing import GONE

T = TypeVar("T")
ARGS = ("--rate", "50", "--keys", "4", "--checkpoint-interval", "1000")


@dataclass(frozen=True)
class Target:
    """A Flink to check: its API, an uploaded CounterJob jar and where savepoints go."""

    api: FlinkApi
    jar_id: str
    savepoint_dir: str | None


def poll(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start(target: Target, savepoint: str | None = None) -> str:
    job_id = uuid.uuid4().hex
    request = RunRequest(args=ARGS, parallelism=1, job_id=job_id, savepoint_path=savepoint)
    assert target.api.run_jar(target.jar_id, request) == job_id
    poll(
        lambda: True if target.api.job_details(job_id).all_vertices_running else None,
        f"job {job_id} running",
    )
    return job_id


def stop_with_savepoint(target: Target, job_id: str) -> str:
    trigger = target.api.stop_with_savepoint(
        job_id, target.savepoint_dir, trigger_id=uuid.uuid4().hex
    )

    def done() -> str | None:
        operation = target.api.savepoint_status(job_id, trigger)
        assert operation.state is not OperationState.FAILED, operation.failure
        return operation.location if operation.state is OperationState.COMPLETED else None

    return poll(done, f"the savepoint of {job_id}")


def check_a_job_runs_under_the_id_it_was_given_and_the_id_is_refused_again(target: Target) -> None:
    job_id = start(target)
    listed = {job.job_id: job for job in target.api.list_jobs()}
    assert listed[job_id].state == "RUNNING"
    with pytest.raises(FlinkHttpError, match="Duplicate"):
        target.api.run_jar(target.jar_id, RunRequest(args=ARGS, parallelism=1, job_id=job_id))
    target.api.cancel(job_id)
    poll(lambda: True if target.api.job_details(job_id).state == "CANCELED" else None, "cancel")


def check_an_unknown_job_is_404(target: Target) -> None:
    unknown = uuid.uuid4().hex
    with pytest.raises(FlinkHttpError) as details:
        target.api.job_details(unknown)
    assert details.value.status == 404
    assert unknown not in {job.job_id for job in target.api.list_jobs()}


def check_stop_with_savepoint_finishes_the_job_and_a_new_job_restores_it(target: Target) -> None:
    job_id = start(target)
    location = stop_with_savepoint(target, job_id)
    poll(lambda: True if target.api.job_details(job_id).state == "FINISHED" else None, "finished")
    assert same_path(target.api.checkpoints(job_id).latest_savepoint, location)
    restored_job = start(target, savepoint=location)
    restored = poll(lambda: target.api.checkpoints(restored_job).restored, "the restored path")
    assert same_path(restored, location)
    target.api.cancel(restored_job)


def check_a_disposed_savepoint_is_gone_and_a_reposted_checkpoint_is_one(target: Target) -> None:
    """Savepoint disposal completes, and disposing it again fails the way runtime.disposing
    counts as done (its data is gone); a checkpoint trigger re-posted with the same id is the
    same operation (the periodic rule relies on both)."""
    job_id = start(target)
    trigger_id = uuid.uuid4().hex
    first = target.api.trigger_checkpoint(job_id, trigger_id=trigger_id)
    assert target.api.trigger_checkpoint(job_id, trigger_id=trigger_id) == first == trigger_id
    location = stop_with_savepoint(target, job_id)

    def disposed(path: str) -> OperationState | str:
        trigger = target.api.dispose_savepoint(path)

        def done() -> OperationState | str | None:
            operation = target.api.disposal_status(trigger)
            if operation.state is OperationState.IN_PROGRESS:
                return None
            return operation.failure or operation.state

        return poll(done, f"disposal of {path}")

    assert disposed(location) is OperationState.COMPLETED
    again = disposed(location)
    assert isinstance(again, str) and any(sign in again for sign in GONE), again


CHECKS = [
    check_a_job_runs_under_the_id_it_was_given_and_the_id_is_refused_again,
    check_an_unknown_job_is_404,
    check_stop_with_savepoint_finishes_the_job_and_a_new_job_restores_it,
    check_a_disposed_savepoint_is_gone_and_a_reposted_checkpoint_is_one,
]
