"""Custom validators from the `gitflink.validators` entry point group, found without installing.

The test writes a `*.dist-info` with an `entry_points.txt` next to the example plugin in
tests/plugins, so importlib.metadata finds it exactly as it finds an installed package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitflink.cli import main
from gitflink.core.parsing import Desired, parse_files
from gitflink.core.validation import validate
from gitflink.model.problems import Problem
from gitflink.runtime.validator_loading import load_validators

PLUGINS = Path(__file__).parent.parent / "plugins"
MANIFEST = b"""\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
  labels:
    app: orders
spec:
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
"""


def install(site: Path, entry_points: str, name: str = "example_plugin") -> None:
    dist_info = site / f"{name}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[gitflink.validators]\n{entry_points}\n")


@pytest.fixture
def team_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install(tmp_path, "require-team = require_team_label:require_team_label")
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path


def test_entry_point_plugin_is_loaded_and_its_problems_reported(team_plugin: Path) -> None:
    loaded = load_validators()
    assert loaded.errors == ()
    assert [v.__name__ for v in loaded.validators] == ["require_team_label"]
    parsed = parse_files({"apps/orders.yaml": MANIFEST})
    problems = validate(parsed.desired, loaded.validators)
    assert [str(p) for p in problems] == [
        "apps/orders.yaml:5:3: metadata.labels.team: every resource needs a 'team' label"
    ]
    labelled = parse_files({"o.yaml": MANIFEST.replace(b"app: orders", b"team: shop")})
    assert validate(labelled.desired, loaded.validators) == []


def test_cli_runs_installed_plugins_unless_told_not_to(
    team_plugin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "orders.yaml"
    manifest.write_bytes(MANIFEST)
    assert main(["validate", "-o", "json", str(manifest)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [p["field"] for p in report["problems"]] == ["metadata.labels.team"]
    assert main(["validate", "--no-plugins", str(manifest)]) == 0


def test_plugin_that_cannot_be_imported_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "broken = no_such_module_anywhere:check", name="broken_plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load_validators()
    assert len(loaded.errors) == 1
    assert loaded.errors[0].startswith(
        "broken (no_such_module_anywhere:check): ModuleNotFoundError"
    )


def test_plugin_that_raises_becomes_a_problem_instead_of_a_crash() -> None:
    def explodes(desired: object) -> list[Problem]:
        raise ValueError("boom")

    def returns_junk(desired: object) -> list[str]:
        return ["not a problem"]

    desired: tuple[Desired, ...] = parse_files({"o.yaml": MANIFEST}).desired
    problems = validate(desired, [explodes, returns_junk])  # type: ignore[list-item]
    assert [p.message for p in problems] == [
        "raised ValueError: boom",
        "returned str instead of a Problem",
    ]
