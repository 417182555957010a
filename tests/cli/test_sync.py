"""`gitflink sync` output and exit codes, on fakes (the real-Flink runs are in test_sync_flink)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from support.fakes import fake_world
from support.gitrepos import Remote
from support.passes import app

from gitflink.cli import main
from gitflink.cli.sync import print_result, sync


def test_sync_prints_one_line_per_resource_and_progress_lines_when_not_a_tty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    result = sync(world.ports, ())
    out = io.StringIO()
    print_result(result, world.ports, out)
    text = out.getvalue()
    assert result.ok
    header, row = text.splitlines()[1:3]
    assert header.split() == ["RESOURCE", "KIND", "ACTION", "RESULT", "MESSAGE"]
    assert row.split()[:6] == [
        "streaming/orders",
        "FlinkDeployment",
        "deploy",
        "ok",
        "submitted",
        "job",
    ]
    assert "Flink Web UI streaming/orders: http://fake/streaming/orders" in text
    progress = capsys.readouterr().err
    assert "streaming/orders: start Flink cluster streaming/orders" in progress
    assert "streaming/orders: done: deploy" in progress


def test_sync_reports_invalid_manifest_and_fails() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders", parallelism=0)})
    result = sync(world.ports, ())
    out = io.StringIO()
    print_result(result, world.ports, out)
    assert not result.ok
    assert "streaming/orders.yaml:" in out.getvalue()


def test_sync_command_exits_1_for_a_path_that_is_not_a_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sync", "--repo", str(tmp_path), "--data-dir", str(tmp_path / "data")])
    assert code == 1
    assert "not a Git repository" in capsys.readouterr().err


def test_sync_command_with_nothing_to_do_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("no manifests yet\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    code = main(["sync", "--repo", str(repo), "--data-dir", str(tmp_path / "data")])
    assert code == 0
    assert "synced revision" in capsys.readouterr().out


def test_sync_command_follows_a_branch_of_a_file_url_remote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"README.md": "hi\n", "elsewhere/bad.yaml": app("bad", parallelism=0).decode()})
    remote.push()
    suspended = app("orders").decode().replace("upgradeMode: savepoint", "upgradeMode: stateless")
    suspended += "    state: suspended\n"  # recorded without starting Flink
    release = remote.commit({"apps/orders.yaml": suspended}, "release")
    remote.push("HEAD:release")
    args = ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    code = main(["sync", "--repo", remote.url, "--branch", "release", "--path", "apps", *args])
    assert code == 0
    assert f"synced revision {release[:7]}" in capsys.readouterr().out


def test_sync_command_reports_problems_read_from_a_remote_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"apps/orders.yaml": app("orders", parallelism=0).decode()})
    remote.push()
    args = ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    assert main(["sync", "--repo", remote.url, "--path", "apps", *args]) == 1
    out = capsys.readouterr().out
    assert "apps/orders.yaml:" in out and "parallelism" in out


def test_sync_command_exits_1_when_the_branch_does_not_exist_on_the_remote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"README.md": "hi\n"})
    remote.push()
    args = ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    assert main(["sync", "--repo", remote.url, "--branch", "gone", *args]) == 1
    captured = capsys.readouterr()
    assert "'gone' not found" in captured.err  # errors go to stderr, stdout stays parseable
    assert "not found" not in captured.out


def test_sync_with_a_path_that_matches_nothing_refuses_and_deletes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"apps/README.md": "manifests go here\n"})
    args = ["--data-dir", str(tmp_path / "data")]
    assert main(["sync", "--repo", str(remote.work), "--path", "nope", *args]) == 1
    err = capsys.readouterr().err
    assert "path 'nope' matches no manifests" in err and "nothing is deleted" in err
