"""`gitflink status`: health columns, -o wide, name filters, block YAML, and what it says when
there is nothing to show. Statuses come from real passes (fakes for Flink, real status files)."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.fakes import fake_world
from support.gitrepos import run_git
from support.passes import app

from gitflink.adapters.status_file import FileStatusStore
from gitflink.cli import main
from gitflink.runtime.reconciler import run_pass

INVALID = app("broken").replace(b"upgradeMode: savepoint", b"upgradeMode: savepiont")


def synced(data_dir: Path) -> None:
    """Three resources in the data dir's status files, as passes left them: `orders` runs,
    `clicks` failed to upgrade (its new job could not be submitted), `broken` is invalid."""
    world = fake_world({"a/orders.yaml": app("orders"), "a/clicks.yaml": app("clicks")})
    ports = dataclasses.replace(world.ports, status=FileStatusStore(data_dir))
    assert run_pass(ports).ok
    clicks = next(r for r in world.runtime.clusters if r.name == "clicks")
    world.runtime.api_for(clicks).fail_next_run = "jar rejected: no main class"
    world.source.commit(
        {
            "a/orders.yaml": app("orders"),
            "a/clicks.yaml": app("clicks", parallelism=3),
            "a/broken.yaml": INVALID,
        }
    )
    assert not run_pass(ports).ok


def status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["status", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table(text: str) -> dict[str, dict[str, str]]:
    """{name: {column: value}} of a status table, cut at the header's column starts."""
    header, *lines = text.splitlines()
    names = header.split()
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    rows = {}
    for line in lines:
        cells = {n.lower(): line[s:e].strip() for n, s, e in zip(names, starts, ends, strict=True)}
        rows[cells["name"]] = cells
    return rows


def test_failed_and_invalid_resources_are_not_ready_and_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(tmp_path)
    code, out, _ = status(capsys, "--data-dir", str(tmp_path))
    assert code == 0
    rows = table(out)
    assert rows["streaming/orders"]["ready"] == "True"
    assert rows["streaming/orders"]["message"] == ""
    assert rows["streaming/clicks"]["ready"] == "False"
    assert "jar rejected: no main class" in rows["streaming/clicks"]["message"]
    assert rows["streaming/broken"]["ready"] == "False"
    assert rows["streaming/broken"]["reason"] == "invalid"
    assert "savepiont" in rows["streaming/broken"]["message"]


def test_wide_shows_whole_messages_and_more_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(tmp_path)
    _, narrow, _ = status(capsys, "--data-dir", str(tmp_path))
    _, wide, _ = status(capsys, "--data-dir", str(tmp_path), "-o", "wide")
    assert wide.splitlines()[0].split() == [
        "NAME", "KIND", "READY", "REASON", "LIFECYCLE", "JOB", "APPLIED", "AGE",
        "OBSERVED", "SAVEPOINT", "SOURCE", "MESSAGE",
    ]  # fmt: skip
    broken_narrow = table(narrow)["streaming/broken"]["message"]
    broken_wide = table(wide)["streaming/broken"]["message"]
    assert broken_narrow.endswith("...") and len(broken_narrow) == 60
    assert broken_wide.startswith(broken_narrow[:-3]) and len(broken_wide) > 60
    assert "is not one of" in broken_wide


def test_names_filter_like_kubectl_get_and_a_missing_name_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(tmp_path)
    code, out, _ = status(capsys, "--data-dir", str(tmp_path), "orders")
    assert code == 0
    assert list(table(out)) == ["streaming/orders"]
    code, out, _ = status(capsys, "--data-dir", str(tmp_path), "streaming/clicks", "orders")
    assert list(table(out)) == ["streaming/clicks", "streaming/orders"]
    code, out, err = status(capsys, "--data-dir", str(tmp_path), "orders", "prod/orders")
    assert code == 1
    assert list(table(out)) == ["streaming/orders"]
    assert f'resource "prod/orders" not found in {tmp_path}' in err


def test_yaml_is_block_style_and_holds_the_conditions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(tmp_path)
    code, out, _ = status(capsys, "--data-dir", str(tmp_path), "broken", "-o", "yaml")
    assert code == 0
    assert re.findall(r"(?m)(?:: |^\s*- )[\[{][^\]}]", out) == []  # no flow style but []/{}
    assert re.search(r"(?m)^  conditions:\n  - ", out)
    documents = YAML(typ="safe").load(io.StringIO(out))
    (document,) = documents.values()
    ready = next(c for c in document["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "invalid")


def test_a_data_dir_without_status_is_an_error_not_an_empty_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = status(capsys, "--data-dir", str(tmp_path / "typo"))
    assert (code, out) == (1, "")
    assert f"no status in {tmp_path / 'typo'}" in err


def test_an_empty_status_dir_says_no_resources_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "status").mkdir()
    code, out, err = status(capsys, "--data-dir", str(tmp_path))
    assert (code, out) == (0, "")
    assert f"No resources found in {tmp_path}." in err


def test_gitflink_data_dir_is_the_default_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    synced(tmp_path)
    monkeypatch.setenv("GITFLINK_DATA_DIR", str(tmp_path))
    code, out, _ = status(capsys)
    assert code == 0
    assert set(table(out)) == {"streaming/orders", "streaming/clicks", "streaming/broken"}


def test_a_repository_without_a_status_branch_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "r.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    argv = ["--repo", bare.as_uri(), "--cache-dir", str(tmp_path / "cache")]
    code, out, err = status(capsys, *argv)
    assert (code, out) == (1, "")
    assert f"status branch gitflink/status of {bare.as_uri()} not found" in err


def test_gitflink_status_repo_is_read_without_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "r.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    monkeypatch.setenv("GITFLINK_STATUS_REPO", bare.as_uri())
    code, _, err = status(capsys, "--cache-dir", str(tmp_path / "cache"))
    assert code == 1
    assert f"status branch gitflink/status of {bare.as_uri()} not found" in err
