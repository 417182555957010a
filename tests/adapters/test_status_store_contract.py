"""One StatusStore contract, run against the fake the runtime tests use, the file store and the
Git status branch (a real bare repository), so the fake cannot drift from what gitflink gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import FakeStatusStore
from support.gitrepos import run_git

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    PendingChange,
    ResourceStatus,
    Snapshot,
)
from gitflink.ports import StatusStore

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
JOB = ResourceId(Kind.FLINK_SESSION_JOB, "analytics", "views")


@pytest.fixture(params=["fake", "file", "git"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StatusStore:
    if request.param == "fake":
        return FakeStatusStore()
    if request.param == "file":
        return FileStatusStore(tmp_path)
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    return GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None)


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


def test_the_write_ahead_record_round_trips_with_its_typed_fields(store: StatusStore) -> None:
    status = _status(3)
    assert status.pending is not None
    status.pending.submitted_job_id = "b" * 32
    status.pending.generation = 3
    status.pending.stop_snapshot = Snapshot(path="file:///sp/savepoint-1", job_id="a" * 32)
    store.save(APP, status, "submitting generation 3")
    loaded = store.load(APP)
    assert loaded is not None and loaded.pending == status.pending


@pytest.mark.parametrize("kind", ["file", "git"])
def test_a_saved_status_is_read_by_a_new_store_instance(kind: str, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))

    def open_store(name: str) -> StatusStore:
        if kind == "file":
            return FileStatusStore(tmp_path / "data")
        return GitStatusStore(bare.as_uri(), cache_dir=tmp_path / name, sleep=lambda _: None)

    open_store("first").save(APP, _status(4), "m")
    assert open_store("second").load(APP) == _status(4)
