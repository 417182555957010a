"""Which files are read: `.gitflinkignore` and `--exclude` leave files out (the same rules in
`validate`, `plan` and the reader behind `sync` and the agent), and `validate` refuses symlinks
that lead outside the tree it was given, without reading what they point at."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from support.gitrepos import Remote, run_git
from support.passes import app

from gitflink import wiring
from gitflink.adapters.git_source import LocalRepository
from gitflink.cli import agent, main
from gitflink.cli.options import settings_from
from gitflink.runtime.reading import ManifestReader

HELM_TEMPLATE = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
{{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | quote }}
{{- end }}
"""
SECRET_FIELDS = b"root_password: hunter2\napiVersion: x\n"


def tree(root: Path, ignore: str | None = None) -> Path:
    (root / "streaming").mkdir(parents=True)
    (root / "streaming" / "orders.yaml").write_bytes(app("orders"))
    (root / "charts" / "app" / "templates").mkdir(parents=True)
    (root / "charts" / "app" / "templates" / "cm.yaml").write_bytes(HELM_TEMPLATE)
    if ignore is not None:
        (root / ".gitflinkignore").write_text(ignore)
    return root


def validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["validate", "-o", "json", "--no-plugins", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_a_helm_template_fails_validate_unless_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tree(tmp_path / "plain")
    code, result = validate(capsys, str(plain))
    assert code == 1 and "templates/cm.yaml" in json.dumps(result["problems"])
    ignored = tree(tmp_path / "ignored", "# Helm renders these\ncharts/*/templates/\n")
    code, result = validate(capsys, str(ignored))
    assert code == 0 and result["summary"] == {  # type: ignore[comparison-overlap]
        "files": 1,
        "resources": 1,
        "errors": 0,
        "warnings": 0,
        "not_managed": 0,
    }


def test_exclude_flag_leaves_files_out_of_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree(tmp_path / "repo")
    code, _ = validate(capsys, str(root), "--exclude", "charts/")
    assert code == 0


def test_symlinks_leaving_the_tree_are_refused_and_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow.yaml").write_bytes(SECRET_FIELDS)
    root = tree(tmp_path / "repo", "charts/\n")
    (root / "streaming" / "leak.yaml").symlink_to(outside / "shadow.yaml")
    (root / "linked-dir").symlink_to(outside)
    (root / "streaming" / "inside.yaml").symlink_to(root / "streaming" / "orders.yaml")
    (root / "NOTES.txt").symlink_to(outside / "shadow.yaml")  # not a manifest: never read
    (root / "charts" / "vendored").symlink_to(outside)  # under an ignored directory
    code = main(["validate", "--no-plugins", str(root)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{root}/streaming/leak.yaml: symlink to outside {root}; refused, not read" in out
    assert f"{root}/linked-dir: symlink to outside" in out
    assert "root_password" not in out and "hunter2" not in out
    assert "NOTES.txt" not in out and "vendored" not in out
    # a symlink that stays inside is read like any file (orders is then defined twice)
    assert "inside.yaml" in out and "defined" in out


def git_repo(root: Path, ignore: str) -> LocalRepository:
    tree(root, ignore)
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "init")
    return LocalRepository(root)


def test_the_reader_applies_the_repository_ignore_file_and_its_excludes(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", "charts/*/templates/\n")
    revision = repo.fetch()
    manifests = ManifestReader().read(repo, revision)
    assert manifests.problems == ()
    assert [d.file for d in manifests.parsed.desired] == ["streaming/orders.yaml"]
    # the ignore file at the top applies under --path roots too
    under_charts = ManifestReader().read(repo, revision, ["charts"])
    assert under_charts.parsed.desired == () and under_charts.problems == ()
    excluded = ManifestReader(excludes=["streaming/"]).read(repo, revision)
    assert excluded.parsed.desired == () and excluded.problems == ()


def test_plan_applies_the_ignore_file_and_exclude(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    git_repo(root, "charts/*/templates/\n")
    (root / "streaming" / "orders.yaml").write_bytes(app("orders", rate=20))
    (root / "streaming" / "broken.yaml").write_text("a: [\n")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "rate 20")
    code = main(["plan", "--repo", str(root), "--base", "HEAD~1", "-o", "json"])
    plan = json.loads(capsys.readouterr().out)
    assert code == 1 and "streaming/broken.yaml" in json.dumps(plan["problems"])
    code = main(["plan", "--repo", str(root), "--base", "HEAD~1", "--exclude", "broken.yaml"])
    out = capsys.readouterr().out
    assert code == 0 and "upgrade" in out and "templates" not in out


def test_sync_from_a_remote_applies_the_ignore_file_and_exclude(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"charts/app/templates/cm.yaml": HELM_TEMPLATE.decode(), "README.md": "hi\n"})
    remote.push()
    args = ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    assert main(["sync", "--repo", remote.url, *args]) == 1
    assert "charts/app/templates/cm.yaml:" in capsys.readouterr().out
    assert main(["sync", "--repo", remote.url, "--exclude", "templates/", *args]) == 0
    capsys.readouterr()
    remote.commit({".gitflinkignore": "charts/*/templates/\n"}, "ignore helm")
    remote.push()
    # the top-level ignore file applies to --path roots below it too
    assert main(["sync", "--repo", remote.url, "--path", "charts", *args]) == 0


def test_agent_settings_carry_the_exclude_patterns() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    agent.register(sub)
    args = parser.parse_args(["agent", "--repo", "x", "--exclude", "a/", "--exclude", "*.tpl"])
    settings = settings_from(args)
    assert settings.excludes == ("a/", "*.tpl")
    assert wiring.manifest_reader(settings).excludes == ("a/", "*.tpl")
