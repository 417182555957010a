"""One StatusStore contract, run against the fake the runtime tests use, the file store and the
Git status branch (a real bare repository), so the fake cannot drift from what gitflink gets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_fixtures import cr_status_store, ensure_namespace
from support.fakes import FakeStatusStore
from support.gitrepos import run_git

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
)
from gitflink.ports import StatusStore

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
JOB = ResourceId(Kind.FLINK_SESSION_JOB, "analytics", "views")


CR = pytest.param("cr", marks=pytest.mark.k8s)  # custom resources on the Kubernetes test bed


@pytest.fixture(params=["fake", "file", "git", CR])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StatusStore]:
    if request.param == "fake":
        yield FakeStatusStore()
    elif request.param == "file":
        yield FileStatusStore(tmp_path)
    elif request.param == "git":
        bare = tmp_path / "remote.git"
        run_git(tmp_path, "init", "-q", "--bare", str(bare))
        yield GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None)
    else:
        yield from _cr_store(request)


def _cr_store(request: pytest.FixtureRequest) -> Iterator[StatusStore]:
    """The CRDs installed on the shared test bed; the contract's resources removed after."""
    request.getfixturevalue("flink_crds")
    config = request.getfixturevalue("kube_config")
    for resource in (APP, JOB):
        ensure_namespace(config, resource.namespace)
    for store in cr_status_store(config, "contract"):
        try:
            yield store
        finally:
            for resource in (APP, JOB):
                store.delete(resource, "clean up")


def _session_job() -> ResourceStatus:
    """A session job's status as the executor saves it: with the spec it applied."""
    spec = {"deploymentName": "shared", "job": {"jarURI": "local:///opt/flink/job.jar"}}
    return ResourceStatus(reconciliation=ReconciliationStatus(last_applied_spec=spec))


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
    store.save(JOB, _session_job(), "m")
    assert dict(store.load_all()) == {APP: _status(2), JOB: _session_job()}


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


@pytest.mark.parametrize("kind", ["file", "git", CR])
def test_a_saved_status_is_read_by_a_new_store_instance(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """What a crash leaves: the write-ahead record, read by the next process."""
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    status = _status(4)
    assert status.pending is not None
    status.pending.submitted_job_id = "c" * 32
    status.pending.stop_snapshot = Snapshot(path="file:///sp/savepoint-4", job_id="a" * 32)

    def open_store(name: str) -> Iterator[StatusStore]:
        if kind == "file":
            yield FileStatusStore(tmp_path / "data")
        elif kind == "git":
            yield GitStatusStore(bare.as_uri(), cache_dir=tmp_path / name, sleep=lambda _: None)
        else:
            yield from _cr_store(request)

    for first in open_store("first"):
        first.save(APP, status, "m")
        for second in open_store("second"):
            assert second.load(APP) == status
