"""Broken surroundings give one clear line on stderr, never a traceback: an unreachable status
remote, corrupt status documents, a file that is not UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.gitrepos import run_git
from test_plan_cli_scenarios import SAVEPOINT, commit
from test_plan_deployed import ORDERS, deployed

from gitflink.adapters.status_file import FileStatusStore
from gitflink.cli import main
from gitflink.core.parsing import parse_files


def repo_with_orders(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [SAVEPOINT], "orders")
    return repo


def test_plan_against_an_unreachable_status_remote_says_so_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_with_orders(tmp_path)
    gone = (tmp_path / "no-such-remote.git").as_uri()
    code = main(["plan", "--repo", str(repo), "--status-repo", gone])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("gitflink plan: git ls-remote") and "Traceback" not in err
    assert "no-such-remote.git" in err


def test_plan_and_status_name_a_corrupt_status_file_instead_of_planning_it_as_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, data = repo_with_orders(tmp_path), tmp_path / "data"
    deployed(data, SAVEPOINT, state="RUNNING")
    path = FileStatusStore(data).path_of(ORDERS)
    path.write_text('{"status": {"lifecycleState": ')
    code = main(["plan", "--repo", str(repo), "--data-dir", str(data)])
    captured = capsys.readouterr()
    assert code == 1 and f"status document {path}" in captured.err
    assert "deploy" not in captured.out
    code = main(["status", "--data-dir", str(data)])
    captured = capsys.readouterr()
    assert code == 1 and f"gitflink status: status document {path}" in captured.err


def test_non_utf8_file_error_names_the_line_and_column() -> None:
    raw = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  x: caf\xe9\n"
    [problem] = parse_files({"cm.yaml": raw}).problems
    assert (problem.line, problem.column) == (4, 9)
    assert str(problem).startswith("cm.yaml:4:9: not UTF-8 text")
