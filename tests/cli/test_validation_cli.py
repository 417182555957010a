"""`gitflink validate`: paths as given, human and JSON output, exit 0 valid / 1 on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitflink.cli import main

GOOD = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: {name}
spec:
  flinkVersion: {version}
  jobManager: {{resource: {{memory: 1g}}}}
  taskManager: {{resource: {{memory: 1g}}}}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apps" / "nested").mkdir(parents=True)
    (tmp_path / "apps" / "orders.yaml").write_text(GOOD.format(name="orders", version="v1_20"))
    (tmp_path / "apps" / "nested" / "old.yml").write_text(GOOD.format(name="old", version="v1_17"))
    (tmp_path / "apps" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
    )
    (tmp_path / "apps" / "notes.txt").write_text("kind: [ not yaml")
    (tmp_path / "apps" / ".hidden").mkdir()
    (tmp_path / "apps" / ".hidden" / "x.yaml").write_text("kind: [")
    return tmp_path


def test_valid_directory_exits_zero_with_warnings_and_not_managed_listed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--no-plugins", "apps"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "apps/nested/old.yml:6:3: warning: spec.flinkVersion: v1_17 is deprecated; "
        "upgrade to v1_19 or newer",
        "not managed: apps/secret.yaml (document 1): Secret s: not a Flink resource",
        "valid: 2 resources in 3 files, 0 errors, 1 warnings, 1 documents not managed",
    ]


def test_any_error_exits_one_and_names_the_file_as_given(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = repo / "apps" / "orders.yaml"
    broken.write_text(broken.read_text() + "  job:\n    upgradeMode: savepiont\n")
    assert main(["validate", "--no-plugins", "./apps/orders.yaml"]) == 1
    out = capsys.readouterr().out
    assert "./apps/orders.yaml:10:5: spec.job.upgradeMode: 'savepiont' is not one of" in out
    assert out.splitlines()[-1].startswith("invalid: 0 resources in 1 files, 1 errors")


def test_json_output_for_machines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--no-plugins", "-o", "json", "apps", "missing.yaml"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["summary"] == {
        "files": 3,
        "resources": 2,
        "errors": 1,
        "warnings": 1,
        "not_managed": 1,
    }
    assert [r["id"] for r in report["resources"]] == [
        "FlinkDeployment/default/old",
        "FlinkDeployment/default/orders",
    ]
    assert report["problems"][-1] == {
        "file": "missing.yaml",
        "line": 0,
        "column": 0,
        "field": "",
        "message": "no such file or directory",
        "severity": "error",
        "resource": None,
    }
    assert report["not_managed"][0]["kind"] == "Secret"


def test_sample_repository_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).parents[2] / "sample-repo"
    assert main(["validate", "--no-plugins", str(sample)]) == 0, capsys.readouterr().out
