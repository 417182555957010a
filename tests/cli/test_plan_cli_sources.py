"""Where `gitflink plan` reads from: a remote URL, the data dir (flag or GITFLINK_DATA_DIR),
custom resources (--status cr: its argument handling; tests/k8s/test_k8s_plan_cr.py plans), a
missing status store said to be missing; and which resources made `--fail-on` exit 3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.gitrepos import Remote, run_git
from test_plan_cli_scenarios import SAVEPOINT, STATELESS, commit, edit
from test_plan_deployed import deployed

from gitflink.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_plan_reads_both_revisions_of_a_remote_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    commit(remote.work, [SAVEPOINT], "base")
    remote.push()
    run_git(remote.work, "checkout", "-q", "-b", "change")
    commit(remote.work, [edit(SAVEPOINT, "spec.job.args", ["--v2"])], "new args")
    remote.push("change")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    argv = ["plan", "--repo", remote.url, "--base", "main", "--head", "change", *cache]
    code = main([*argv, "-o", "json"])
    assert code == 0, capsys.readouterr().err
    (change,) = json.loads(capsys.readouterr().out)["changes"]
    assert (change["name"], change["action"]) == ("orders", "upgrade")
    code = main(["plan", "--repo", remote.url, "--base", "gone", *cache])
    assert code == 1
    assert "'gone' not found" in capsys.readouterr().err


def test_a_missing_data_dir_is_an_error_not_a_plan_of_everything_as_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(tmp_path, "init", "-q")
    commit(tmp_path, [SAVEPOINT], "one")
    code = main(["plan", "--repo", str(tmp_path), "--data-dir", str(tmp_path / "typo")])
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert f"no status in {tmp_path / 'typo'}" in captured.err


def test_a_status_repo_without_a_status_branch_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(tmp_path, "init", "-q")
    commit(tmp_path, [SAVEPOINT], "one")
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    argv = ["plan", "--repo", str(tmp_path), "--status-repo", bare.as_uri()]
    code = main([*argv, "--cache-dir", str(tmp_path / "cache")])
    assert code == 1
    assert "status branch gitflink/status not found" in capsys.readouterr().err


def test_gitflink_data_dir_is_the_baseline_when_no_base_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [edit(SAVEPOINT, "spec.job.args", ["--v2"])], "v2")
    deployed(data, SAVEPOINT, state="RUNNING")
    monkeypatch.setenv("GITFLINK_DATA_DIR", str(data))
    assert main(["plan", "--repo", str(repo), "-o", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["baseline"] == "deployed"
    assert [c["action"] for c in planned["changes"]] == ["upgrade"]


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--status", "cr", "--base", "HEAD"], "--status cr is a baseline of its own"),
        (["--status", "cr", "--data-dir", "d"], "--status cr is a baseline of its own"),
        (["--instance", "abc", "--data-dir", "d"], "--instance picks custom resources"),
    ],
)
def test_status_cr_with_another_baseline_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], said: str
) -> None:
    run_git(tmp_path, "init", "-q")
    commit(tmp_path, [SAVEPOINT], "one")
    assert main(["plan", "--repo", str(tmp_path), *flags]) == 2
    assert said in capsys.readouterr().err


def test_gitflink_status_cr_is_the_baseline_when_no_base_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As GITFLINK_DATA_DIR: the environment's store is planned against unless --base is
    given; with no Kubernetes credentials that is a clear error, never a plan of all as new."""
    run_git(tmp_path, "init", "-q")
    base = commit(tmp_path, [SAVEPOINT], "one")
    commit(tmp_path, [edit(SAVEPOINT, "spec.job.args", ["--v2"])], "v2")
    monkeypatch.setenv("GITFLINK_STATUS", "cr")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["plan", "--repo", str(tmp_path), "--base", base, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["baseline"] == "revision"
    assert main(["plan", "--repo", str(tmp_path), "-o", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no Kubernetes credentials for --status cr" in captured.err


def test_fail_on_names_the_resources_that_matched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(tmp_path, "init", "-q")
    safe = edit(SAVEPOINT, "metadata.name", "safe")
    lossy = edit(STATELESS, "metadata.name", "lossy")
    base = commit(tmp_path, [safe, lossy], "base")
    commit(
        tmp_path,
        [edit(safe, "spec.job.args", ["--v2"]), edit(lossy, "spec.job.args", ["--v2"])],
        "both change",
    )
    code = main(["plan", "--repo", str(tmp_path), "--base", base, "--fail-on", "state-loss"])
    err = capsys.readouterr().err
    assert code == 3
    assert "--fail-on state-loss matched 1: FlinkDeployment streaming/lossy" in err
    assert "safe" not in err


def test_the_readme_plan_example_works_from_the_repository_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """This repository's root holds invalid fixtures (tests/invalid): the README's example for
    trying plan here names sample-repo, so it plans only the sample manifests."""
    readme = (ROOT / "README.md").read_text()
    example = next(line for line in readme.splitlines() if line.startswith("gitflink plan "))
    argv = example.split("#")[0].split()[1:]
    assert "sample-repo" in argv
    for folder in ("sample-repo", "tests/invalid"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "add", "-A")
    run_git(tmp_path, "commit", "-qm", "base")
    orders = tmp_path / "sample-repo" / "streaming" / "orders.yaml"
    orders.write_text(orders.read_text().replace("parallelism: 2", "parallelism: 3", 1))
    run_git(tmp_path, "commit", "-qam", "orders: parallelism 3")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "FlinkDeployment streaming/orders" in out
    assert "tests/invalid" not in out


def test_a_resource_defined_again_beside_its_unchanged_file_is_an_error_not_a_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The head commit adds a second definition in a new file; the first lives in a file the
    commit did not touch. The plan reports the duplicate (exit 1) instead of a change nobody
    made."""
    run_git(tmp_path, "init", "-q")
    base = commit(tmp_path, [SAVEPOINT], "base")
    (tmp_path / "copy.yaml").write_text(json.dumps(edit(SAVEPOINT, "spec.job.args", ["--x"])))
    run_git(tmp_path, "add", "-A")
    run_git(tmp_path, "commit", "-qm", "a copy in another file")
    code = main(["plan", "--repo", str(tmp_path), "--base", base, "-o", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    [problem] = out["problems"]
    assert problem["file"] == "copy.yaml" and "is also defined in" in problem["message"]
    assert [c for c in out["changes"] if c["action"] != "none"] == []
