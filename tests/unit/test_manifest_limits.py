"""Large or explosive manifests are refused before they are built, with a file-level error that
says which limit they broke (settings: max_manifest_bytes, max_manifest_nodes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.fakes import FakeGitSource

from gitflink.cli import main
from gitflink.core.limits import Limits
from gitflink.core.parsing import parse_files
from gitflink.runtime.reading import ManifestReader
from gitflink.settings import Settings


def big_config_map(megabytes: float) -> bytes:
    line = b"  key%07d: " + b"x" * 80 + b"\n"
    count = int(megabytes * 1_000_000 / (len(line) + 5))
    return b"apiVersion: v1\nkind: ConfigMap\ndata:\n" + b"".join(
        b"  key%07d: %s\n" % (i, b"x" * 80) for i in range(count)
    )


def alias_bomb(levels: int = 9) -> bytes:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def test_a_file_over_the_size_limit_is_refused_unparsed_and_fast() -> None:
    data = big_config_map(11)
    started = time.monotonic()
    [problem] = parse_files({"huge.yaml": data}).problems
    assert time.monotonic() - started < 0.5
    assert (problem.file, problem.line) == ("huge.yaml", 1)
    assert problem.message == (
        f"file is {len(data)} bytes, over the limit of 1572864 (max_manifest_bytes); not read"
    )


def test_a_document_over_the_node_limit_is_refused_before_it_is_built() -> None:
    data = b"apiVersion: v1\nkind: ConfigMap\ndata:\n" + b"".join(
        b"  k%d: v\n" % i for i in range(600)
    )
    [problem] = parse_files({"cm.yaml": data}, Limits(max_nodes=1000)).problems
    assert problem.message.startswith("document has more than 1000 YAML nodes")
    assert "max_manifest_nodes" in problem.message
    assert parse_files({"cm.yaml": data}, Limits(max_nodes=2000)).problems == ()


def test_an_alias_bomb_is_refused_quickly_with_a_message_about_nodes() -> None:
    started = time.monotonic()
    [problem] = parse_files({"bomb.yaml": alias_bomb()}).problems
    assert time.monotonic() - started < 2
    assert problem.message.startswith("document has more than 200000 YAML nodes")


def test_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"GITFLINK_MAX_MANIFEST_BYTES": "1000", "GITFLINK_MAX_MANIFEST_NODES": "50"}
    )
    assert (settings.max_manifest_bytes, settings.max_manifest_nodes) == (1000, 50)
    with pytest.raises(ValueError, match="GITFLINK_MAX_MANIFEST_BYTES must be a positive"):
        Settings.from_env({"GITFLINK_MAX_MANIFEST_BYTES": "-1"})


def test_validate_refuses_a_large_file_by_its_size_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "big.yaml").write_bytes(big_config_map(0.01))
    monkeypatch.setenv("GITFLINK_MAX_MANIFEST_BYTES", "5000")
    code = main(["validate", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{tmp_path}/big.yaml:1:1: file is " in out and "limit of 5000" in out


def test_the_reader_applies_its_limits_to_files_from_git() -> None:
    source = FakeGitSource({"big.yaml": big_config_map(0.01)})
    manifests = ManifestReader(limits=Limits(max_file_bytes=5000)).read(source, source.revision)
    [problem] = manifests.problems
    assert problem.file == "big.yaml" and "max_manifest_bytes" in problem.message
