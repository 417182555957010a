"""`gitflink plan` as a CI job uses it: exit codes, the three renderings, secrets hidden."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from support.gitrepos import run_git
from test_plan_cli_scenarios import SAVEPOINT, STATELESS, commit, deployment, edit

from gitflink.cli import main


def plan(tmp_path: Path, base: list, head: list, *args: str) -> tuple[int, str]:
    run_git(tmp_path, "init", "-q")
    base_sha = commit(tmp_path, base, "base")
    commit(tmp_path, head, "head")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["plan", "--repo", str(tmp_path), "--base", base_sha, *args])
    return code, out.getvalue()


SECRET = "s3cr3t-value"
WITH_SECRET = edit(SAVEPOINT, "spec.flinkConfiguration.[s3.secret-key]", "old-" + SECRET)
ROTATED = edit(WITH_SECRET, "spec.flinkConfiguration.[s3.secret-key]", SECRET)


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_secret_values_never_reach_any_rendering(tmp_path: Path, output: str) -> None:
    code, text = plan(tmp_path, [WITH_SECRET], [ROTATED], "-o", output)
    assert code == 0
    assert SECRET not in text
    assert "s3.secret-key" in text
    assert "******" in text


def test_invalid_resource_gets_no_plan_and_others_are_still_planned(tmp_path: Path) -> None:
    broken = edit(deployment("broken"), "spec.job.parallelism", -3)
    other = edit(SAVEPOINT, "spec.job.args", ["--v2"])
    code, text = plan(tmp_path, [SAVEPOINT, deployment("broken")], [other, broken], "-o", "json")
    result = json.loads(text)
    assert code == 1
    assert [change["name"] for change in result["changes"]] == ["orders"]
    assert any(p["resource"] == "FlinkDeployment/streaming/broken" for p in result["problems"])


def test_unparseable_file_holds_back_deletion_of_what_it_held(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q")
    base_sha = commit(tmp_path, [SAVEPOINT], "base")
    (tmp_path / "FlinkDeployment-orders.yaml").write_text("kind: [unclosed\n")
    run_git(tmp_path, "commit", "-qam", "break it")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["plan", "--repo", str(tmp_path), "--base", base_sha, "-o", "json"])
    result = json.loads(out.getvalue())
    assert code == 1
    assert result["changes"] == []
    assert result["problems"]


def test_fail_on_state_loss_exits_3_only_when_state_is_lost(tmp_path: Path) -> None:
    lossy = edit(STATELESS, "spec.job.args", ["--v2"])
    code, _ = plan(tmp_path, [STATELESS], [lossy], "--fail-on", "state-loss")
    assert code == 3


def test_fail_on_state_loss_passes_a_savepoint_upgrade(tmp_path: Path) -> None:
    safe = edit(SAVEPOINT, "spec.job.args", ["--v2"])
    code, _ = plan(tmp_path, [SAVEPOINT], [safe], "--fail-on", "state-loss")
    assert code == 0


def test_fail_on_restart_matches_a_savepoint_upgrade(tmp_path: Path) -> None:
    safe = edit(SAVEPOINT, "spec.job.args", ["--v2"])
    code, _ = plan(tmp_path, [SAVEPOINT], [safe], "--fail-on", "restart")
    assert code == 3


def test_fail_on_any_matches_an_ignore_only_change(tmp_path: Path) -> None:
    quiet = edit(SAVEPOINT, "spec.flinkConfiguration.[job.autoscaler.enabled]", "true")
    code, _ = plan(tmp_path, [SAVEPOINT], [quiet], "--fail-on", "any")
    assert code == 3


def test_fail_on_any_passes_when_nothing_changes(tmp_path: Path) -> None:
    code, _ = plan(tmp_path, [SAVEPOINT], [SAVEPOINT], "--fail-on", "any")
    assert code == 0


def test_markdown_is_a_table_with_collapsible_diffs_and_highlighted_risks(tmp_path: Path) -> None:
    lossy = edit(STATELESS, "spec.job.args", ["--v2"])
    code, text = plan(tmp_path, [STATELESS], [lossy], "-o", "markdown")
    assert code == 0
    assert "| Resource | Action | Diff | Upgrade mode | State | Downtime |" in text
    assert "| upgrade | UPGRADE | stateless | **lost** | restart |" in text
    assert "<details><summary>" in text
    assert ":warning:" in text
    assert "`spec.job.args`" in text


def test_text_has_one_line_per_resource_and_indented_fields(tmp_path: Path) -> None:
    changed = edit(SAVEPOINT, "spec.job.args", ["--v2"])
    code, text = plan(tmp_path, [SAVEPOINT, deployment("idle")], [changed, deployment("idle")])
    lines = text.splitlines()
    assert code == 0
    assert any(line.startswith("~ FlinkDeployment streaming/orders: upgrade") for line in lines)
    assert '    spec.job.args: (unset) -> ["--v2"] (UPGRADE)' in lines
    assert "1 to change, 0 unchanged." in lines
    assert "note: 1 file(s) unchanged between the revisions; their resources keep running" in lines


def test_namespace_defaults_to_default(tmp_path: Path) -> None:
    doc = deployment("plain")
    del doc["metadata"]["namespace"]
    code, text = plan(tmp_path, [], [doc], "-o", "json")
    assert code == 0
    assert json.loads(text)["changes"][0]["namespace"] == "default"


def test_unknown_revision_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_git(tmp_path, "init", "-q")
    commit(tmp_path, [SAVEPOINT], "base")
    code = main(["plan", "--repo", str(tmp_path), "--base", "no-such-rev"])
    assert code == 1
    assert "no-such-rev" in capsys.readouterr().err
