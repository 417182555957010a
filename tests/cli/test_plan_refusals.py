"""`gitflink plan` rejects the spec changes the operator refuses, at the field of the manifest
that makes them, and exits 1 (each test names the upstream test method it follows)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from support.gitrepos import run_git
from test_plan_cli_scenarios import SAVEPOINT, commit, edit

from gitflink.cli import main


def plan(tmp_path: Path, base: list, head: list) -> tuple[int, str]:  # type: ignore[type-arg]
    run_git(tmp_path, "init", "-q")
    base_sha = commit(tmp_path, base, "base")
    commit(tmp_path, head, "head")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["plan", "--repo", str(tmp_path), "--base", base_sha])
    return code, out.getvalue()


def test_a_switch_to_standalone_mode_is_an_error_at_spec_mode(tmp_path: Path) -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "Cannot switch from native
    kubernetes to standalone kubernetes cluster"."""
    code, text = plan(tmp_path, [SAVEPOINT], [edit(SAVEPOINT, "spec.mode", "standalone")])
    assert code == 1
    assert "blocked" in text
    (line,) = [line for line in text.splitlines() if "spec.mode: cannot switch" in line]
    assert "FlinkDeployment-orders.yaml:" in line and "native to standalone" in line


def test_a_new_flink_version_after_a_last_state_suspend_is_an_error(tmp_path: Path) -> None:
    """DefaultValidatorTest.testFlinkVersionChangeValidation."""
    suspended = edit(
        edit(SAVEPOINT, "spec.job.upgradeMode", "last-state"), "spec.job.state", "suspended"
    )
    resumed = edit(edit(suspended, "spec.job.state", "running"), "spec.flinkVersion", "v2_0")
    code, text = plan(tmp_path, [suspended], [resumed])
    assert code == 1
    assert "spec.flinkVersion: flinkVersion cannot change (v1_20 -> v2_0)" in text
