"""One StatusStore contract, run against the fake the unit tests use and the file adapter, so the
fake cannot drift from what gitflink really gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import FakeStatusStore

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import JobStatus, LifecycleState, PendingChange, ResourceStatus
from gitflink.ports import StatusStore

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
JOB = ResourceId(Kind.FLINK_SESSION_JOB, "analytics", "views")


@pytest.fixture(params=["fake", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StatusStore:
    return FakeStatusStore() if request.param == "fake" else FileStatusStore(tmp_path)


def _status(generation: int) -> ResourceStatus:
    return ResourceStatus(
        lifecycle_state=LifecycleState.UPGRADING,
        job_status=JobStatus(job_id="a" * 32, generation=generation),
        pending=PendingChange(action="upgrade", target_spec={"job": {"parallelism": 3}}),
    )


def test_a_saved_status_is_what_load_returns(store: StatusStore) -> None:
    store.save(APP, _status(2), "m")
    assert store.load(APP) == _status(2)
    assert store.load(JOB) is None


def test_the_last_save_wins_and_load_all_lists_each_resource_once(store: StatusStore) -> None:
    store.save(APP, _status(1), "m")
    store.save(APP, _status(2), "m")
    store.save(JOB, ResourceStatus(), "m")
    assert dict(store.load_all()) == {APP: _status(2), JOB: ResourceStatus()}


def test_a_loaded_status_is_a_copy_not_the_stored_one(store: StatusStore) -> None:
    store.save(APP, _status(1), "m")
    loaded = store.load(APP)
    assert loaded is not None
    loaded.job_status.generation = 99
    assert store.load(APP) == _status(1)


def test_delete_removes_and_deleting_again_succeeds(store: StatusStore) -> None:
    store.save(APP, _status(1), "m")
    store.delete(APP, "m")
    store.delete(APP, "m")
    assert store.load(APP) is None
    assert dict(store.load_all()) == {}
