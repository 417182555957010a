"""The file-backed status store: round trips, atomic replacement, deletion, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import JobStatus, LifecycleState, PendingChange, ResourceStatus

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
JOB = ResourceId(Kind.FLINK_SESSION_JOB, "team-a", "clicks")


def _status() -> ResourceStatus:
    return ResourceStatus(
        lifecycle_state=LifecycleState.UPGRADING,
        job_status=JobStatus(job_id="ab" * 16, generation=3, upgrade_savepoint_path="file:/sp/1"),
        pending=PendingChange(action="upgrade", revision="abc", target_spec={"job": {"args": []}}),
    )


def test_saved_status_loads_back_equal(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, _status(), "upgrade: before stop")
    assert store.load(APP) == _status()
    assert FileStatusStore(tmp_path).load_all() == {APP: _status()}


def test_load_all_returns_every_kind_and_namespace(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, ResourceStatus(), "a")
    store.save(JOB, ResourceStatus(lifecycle_state=LifecycleState.STABLE), "b")
    assert set(store.load_all()) == {APP, JOB}
    assert store.load_all()[JOB].lifecycle_state is LifecycleState.STABLE


def test_save_replaces_the_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, ResourceStatus(), "first")
    store.save(APP, _status(), "second")
    directory = store.path_of(APP).parent
    assert [p.name for p in directory.iterdir()] == ["orders.json"]
    assert store.load(APP) == _status()


def test_unknown_resource_loads_as_none_and_delete_of_missing_succeeds(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    assert store.load(APP) is None
    assert store.load_all() == {}
    store.delete(APP, "gone")
    store.save(APP, ResourceStatus(), "x")
    store.delete(APP, "gone")
    assert store.load(APP) is None


def test_corrupt_status_file_is_reported_not_ignored(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, ResourceStatus(), "x")
    store.path_of(APP).write_text("{not json")
    with pytest.raises(StatusWriteError, match=r"orders\.json"):
        store.load(APP)


def test_unwritable_directory_raises_status_write_error(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("a file where a directory should be")
    with pytest.raises(StatusWriteError):
        FileStatusStore(tmp_path).save(APP, ResourceStatus(), "x")


def test_secret_configuration_values_are_stored_only_as_stable_fingerprints(
    tmp_path: Path,
) -> None:
    store = FileStatusStore(tmp_path)
    spec = {"flinkConfiguration": {"s3.secret-key": "hunter2", "parallelism.default": "2"}}
    status = ResourceStatus()
    status.reconciliation.last_applied_spec = spec
    status.pending = PendingChange(action="upgrade", target_spec=spec)
    store.save(APP, status, "x")
    text = store.path_of(APP).read_text()
    assert "hunter2" not in text
    loaded = store.load(APP)
    assert loaded is not None and loaded.reconciliation.last_applied_spec is not None
    stored = loaded.reconciliation.last_applied_spec["flinkConfiguration"]
    assert stored["parallelism.default"] == "2"
    assert stored["s3.secret-key"].startswith("redacted:")
    store.save(APP, loaded, "saved again")  # a loaded status keeps the same fingerprint
    assert store.path_of(APP).read_text().count(stored["s3.secret-key"]) == 2
