"""FileStatusStore.load_all parses a status file only when it changed: by its own writes, another
process's, or a write too recent to trust its timestamp."""

from __future__ import annotations

import os
from pathlib import Path

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import JobStatus, LifecycleState, ResourceStatus

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
JOB = ResourceId(Kind.FLINK_SESSION_JOB, "team-a", "clicks")
HOUR_AGO_NS = 3600 * 10**9


def _status(state: str) -> ResourceStatus:
    return ResourceStatus(
        lifecycle_state=LifecycleState.STABLE, job_status=JobStatus(job_id="a" * 32, state=state)
    )


def _age(store: FileStatusStore, resource: ResourceId, mtime_ns: int | None = None) -> int:
    """Set the file's mtime an hour back (or to `mtime_ns`), past the racy window."""
    path = store.path_of(resource)
    stamp = mtime_ns or path.stat().st_mtime_ns - HOUR_AGO_NS
    os.utime(path, ns=(stamp, stamp))
    return stamp


def test_unchanged_files_are_not_parsed_again(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, _status("RUNNING"), "m")
    store.save(JOB, _status("RUNNING"), "m")
    _age(store, APP)
    _age(store, JOB)
    first = store.load_all()
    parses = store.parses
    second = store.load_all()
    assert store.parses == parses
    assert second == first


def test_a_file_rewritten_elsewhere_with_the_same_size_and_mtime_is_read_again(
    tmp_path: Path,
) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, _status("RUNNING"), "m")
    stamp = _age(store, APP)
    assert store.load_all()[APP].job_status.state == "RUNNING"
    FileStatusStore(tmp_path).save(APP, _status("FAILED!"), "m")  # same length as RUNNING
    _age(store, APP, stamp)
    assert store.load_all()[APP].job_status.state == "FAILED!"


def test_a_freshly_written_file_is_read_on_every_load(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    FileStatusStore(tmp_path).save(APP, _status("RUNNING"), "m")
    store.load_all()
    parses = store.parses
    store.load_all()
    assert store.parses == parses + 1  # its timestamp may not yet tell a rewrite apart


def test_own_save_is_seen_by_the_next_load_and_deleted_files_are_gone(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, _status("RUNNING"), "m")
    _age(store, APP)
    loaded = store.load_all()[APP]
    loaded.job_status.state = "CANCELED"
    store.save(APP, loaded, "m")
    _age(store, APP)
    again = store.load_all()[APP]
    assert again is not loaded and again.job_status.state == "CANCELED"
    store.delete(APP, "m")
    assert dict(store.load_all()) == {}


def test_load_returns_a_fresh_object_even_when_load_all_shares_one(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.save(APP, _status("RUNNING"), "m")
    _age(store, APP)
    shared = store.load_all()[APP]
    own = store.load(APP)
    assert own == shared and own is not shared
