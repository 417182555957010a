"""`gitflink rollback` as a user runs it, up to the point where Flink would be touched, and
`gitflink plan` on a rolled-back resource (docs/rollback.md). Real Git repositories and status
files; the real-Flink half is tests/flink/test_rollback_flink.py."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from support.gitrepos import run_git
from test_plan_cli_scenarios import SAVEPOINT, commit, edit
from test_plan_deployed import ORDERS, deployed, run

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.fingerprints import spec_digest
from gitflink.model.resources import FlinkDeployment
from gitflink.model.rollback import Rollback
from gitflink.model.status import LifecycleState, Snapshot

V1 = edit(SAVEPOINT, "spec.job.args", ["--v1"])
V2 = edit(SAVEPOINT, "spec.job.args", ["--v2"])


def spec(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = FlinkDeployment.model_validate(doc).to_manifest()["spec"]
    return found


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path, str]:
    root, data = tmp_path / "repo", tmp_path / "data"
    root.mkdir()
    run_git(root, "init", "-q")
    first = commit(root, [V1], "v1")
    commit(root, [V2], "v2")
    deployed(data, V2, state="RUNNING")
    return root, data, first


def rollback(root: Path, data: Path, *extra: str) -> tuple[int, str]:
    return run("rollback", "orders", "--repo", str(root), "--data-dir", str(data), *extra)


def test_a_revision_without_a_recorded_savepoint_is_refused(
    repo: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, data, first = repo
    code, _ = rollback(root, data, "--to", first, "--yes")
    assert code == 1
    assert f"no savepoint is recorded for revision {first[:7]}" in capsys.readouterr().err
    assert (
        run("rollback", "nope", "--to", first, "--repo", str(root), "--data-dir", str(data))[0] == 1
    )


def test_the_plan_is_shown_and_nothing_changes_without_confirmation(
    repo: tuple[Path, Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, data, first = repo
    store = FileStatusStore(data)
    status = store.load(ORDERS)
    assert status is not None
    status.job_status.savepoint_history = [Snapshot(path="file:///sp/one", revision=first)]
    store.save(ORDERS, status, "test")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: --yes is required
    code, text = rollback(root, data, "--to", first[:8])
    assert code == 3
    assert ": rollback" in text and "restoring from file:///sp/one" in text, text
    assert 'spec.job.args: ["--v2"] -> ["--v1"]' in text, text
    assert "--yes" in capsys.readouterr().err
    kept = store.load(ORDERS)
    assert kept is not None and kept.reconciliation.rollback is None


def test_plan_says_a_resource_is_rolled_back_and_what_the_next_commit_does(
    repo: tuple[Path, Path, str],
) -> None:
    root, data, first = repo
    store = FileStatusStore(data)
    deployed(data, V1, state="RUNNING", lifecycle=LifecycleState.ROLLED_BACK)
    status = store.load(ORDERS)
    assert status is not None
    status.reconciliation.rollback = Rollback(
        git_digest=spec_digest(spec(V2)),
        git_revision="b" * 40,
        reason="the change to revision bbbbbbbb failed: its job FAILED",
        to_revision=first,
        spec=spec(V1),
        restore_point="file:///sp/one",
    )
    store.save(ORDERS, status, "test")
    code, text = run("plan", "--repo", str(root), "--data-dir", str(data))
    assert code == 0
    assert "ROLLED_BACK" in text and "not tried again" in text and "next commit" in text, text
    commit(root, [edit(SAVEPOINT, "spec.job.args", ["--v3"])], "v3")
    code, text = run("plan", "--repo", str(root), "--data-dir", str(data))
    assert code == 0
    assert ": upgrade" in text and "so it is applied" in text, text
