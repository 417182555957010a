"""`gitflink local list|stop` over recorded clusters (no JVMs: a sleeping process stands in)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitflink.adapters.local_runtime.cluster import ClusterState, start_process, stop_pids
from gitflink.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITFLINK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GITFLINK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "data"


def record(data_dir: Path, namespace: str, name: str, pid: int) -> Path:
    root = data_dir / "clusters" / namespace / name
    (root / "log").mkdir(parents=True)
    ClusterState(namespace, name, str(root), "1.20.5", "/f", 1, 2, 1, "x", pid).save(
        root / "cluster.json"
    )
    return root


@pytest.fixture
def stand_in(data_dir: Path, tmp_path: Path) -> Iterator[int]:
    """The pid of a process whose command line names the cluster dir, like a JobManager's,
    started as the local runtime starts one (its child, reaped when it stops)."""
    marker = str(data_dir / "clusters" / "ns" / "alpha" / "conf")
    command = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    pid = start_process(command, {}, tmp_path / "stand-in.out", tmp_path)
    yield pid
    stop_pids([pid], marker, timeout=0.0)


def test_list_shows_each_recorded_cluster_as_json(
    data_dir: Path, stand_in: int, capsys: pytest.CaptureFixture[str]
) -> None:
    record(data_dir, "ns", "alpha", stand_in)
    assert main(["local", "list", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["resource"], r["pids"], r["restUrl"]) for r in rows] == [
        ("ns/alpha", [stand_in], "http://127.0.0.1:1")
    ]
    assert rows[0]["alive"] is False  # the pid lives, but no REST answers: not a cluster


def test_list_without_clusters_says_so(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "list"]) == 0
    assert "No local clusters in" in capsys.readouterr().err


def test_stop_by_name_stops_the_recorded_pid_and_keeps_savepoints(
    data_dir: Path, stand_in: int
) -> None:
    root = record(data_dir, "ns", "alpha", stand_in)
    (root / "savepoints" / "savepoint-1").mkdir(parents=True)
    assert main(["local", "stop", "alpha"]) == 0
    assert not Path(f"/proc/{stand_in}").exists()  # stopped and reaped
    assert sorted(p.name for p in root.iterdir()) == ["savepoints"]


def test_stop_of_an_unknown_name_fails(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "stop", "nope"]) == 1
    assert "no local cluster named nope" in capsys.readouterr().err


def test_stop_all_and_ambiguous_names(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for namespace in ("a", "b"):
        record(data_dir, namespace, "same", 999_999_999)
    assert main(["local", "stop", "same"]) == 1
    assert "ambiguous" in capsys.readouterr().err
    assert main(["local", "stop", "--all"]) == 0
    assert not list((data_dir / "clusters").glob("*/*/cluster.json"))
