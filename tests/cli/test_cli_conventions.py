"""What every `gitflink` command does alike, as a kubectl user expects: usage errors exit 2,
no tracebacks, errors on stderr, `-o json|yaml`, the same path and data-dir flags, completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.gitrepos import Remote, spec

from gitflink.cli import main

GITFLINK = [sys.executable, "-m", "gitflink"]


def gitflink(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GITFLINK, *argv], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],  # no PATH
        ["plan", "--repo", "."],  # neither --base nor a status store
        ["agent", "--repo", "x", "--listen", "foo"],
        ["agent", "--repo", "x", "--listen", "host:99999"],
        ["status", "-o", "xml"],
        ["sync"],  # --repo is required
        ["local", "list", "-o", "wide"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(
    tmp_path: Path, argv: list[str]
) -> None:
    if argv[0] == "plan":
        Remote(tmp_path).commit({"a.yaml": spec("a")})
        argv = ["plan", "--repo", str(tmp_path / "work")]
    done = gitflink(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "error" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "argv", "message"),
    [
        ("GITFLINK_LOG_LEVEL", "loud", ["validate", "."], "expected one of DEBUG, INFO"),
        ("GITFLINK_LISTEN", "foo", ["agent", "--repo", "x"], "'foo' is not HOST:PORT"),
    ],
)
def test_a_bad_environment_value_is_a_clear_usage_error(
    variable: str, value: str, argv: list[str], message: str
) -> None:
    env = {**os.environ, variable: value}
    done = subprocess.run([*GITFLINK, *argv], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 2
    assert variable in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    for index in range(50):
        (tmp_path / f"app{index}.yaml").write_text(spec(f"app-{index}"))
    reader = subprocess.Popen(
        [*GITFLINK, "validate", str(tmp_path), "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # the reader is gone before the report is written (`| true`)
    stderr = reader.stderr.read()
    assert reader.wait(timeout=60) == 141
    assert stderr == ""


def test_every_command_that_prints_results_speaks_json_and_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"apps/a.yaml": spec("a").replace("parallelism: 1", "parallelism: 0")})
    data = ["--data-dir", str(tmp_path / "data")]
    commands = [
        ["validate", str(remote.work)],
        ["plan", "--repo", str(remote.work), "--base", "HEAD"],
        ["sync", "--repo", str(remote.work), *data],
        ["status", *data],
        ["local", "list", *data],
    ]
    for argv in commands:
        for output in ("json", "yaml"):
            main([*argv, "-o", output])
            out = capsys.readouterr().out
            document = json.loads(out) if output == "json" else YAML(typ="safe").load(out)
            assert document is not None, argv
    main(["sync", "--repo", str(remote.work), *data, "-o", "json"])
    synced = json.loads(capsys.readouterr().out)
    assert synced["ok"] is False
    (problem,) = synced["problems"]
    assert (problem["file"], problem["field"]) == ("apps/a.yaml", "spec.job.parallelism")


def test_paths_are_named_the_same_way_by_validate_plan_and_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    base = remote.commit({"README.md": "manifests come next\n"})

    # Suspended: sync records them without starting any Flink process.
    def suspended(name: str) -> str:
        return spec(name) + "    state: suspended\n    upgradeMode: stateless\n"

    remote.commit({"apps/a.yaml": suspended("a"), "other/b.yaml": suspended("b")})
    work = str(remote.work)
    data = ["--data-dir", str(tmp_path / "data")]
    for flavour in (["apps"], ["--path", "apps"]):
        main(["validate", *(f"{work}/{p}" if p != "--path" else p for p in flavour), "-o", "json"])
        assert [r["name"] for r in json.loads(capsys.readouterr().out)["resources"]] == ["a"]
        main(["plan", "--repo", work, "--base", base, *flavour, "-o", "json"])
        assert [c["name"] for c in json.loads(capsys.readouterr().out)["changes"]] == ["a"]
        main(["sync", "--repo", work, *data, *flavour, "-o", "json", "--no-prune"])
        names = [r["name"] for r in json.loads(capsys.readouterr().out)["resources"]]
        assert "b" not in names


def test_completion_scripts_complete_subcommands_and_flags(tmp_path: Path) -> None:
    script = tmp_path / "gitflink.bash"
    script.write_text(gitflink("completion", "bash").stdout)
    complete = (
        f"source {script}; COMP_WORDS=(gitflink {{words}}); COMP_CWORD={{n}};"
        ' _shtab_gitflink gitflink; echo "${{COMPREPLY[@]}}"'
    )

    def candidates(words: str) -> list[str]:
        line = complete.format(words=words, n=len(words.split()))
        if words.endswith(" "):
            line = complete.format(words=words + "''", n=len(words.split()))
        return subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, check=True
        ).stdout.split()

    assert candidates("sta") == ["status"]
    assert set(candidates("status --o")) == {"--output"}
    assert "--fail-on" in candidates("plan --")
    assert "#compdef gitflink" in gitflink("completion", "zsh").stdout
