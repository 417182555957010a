"""`gitflink plan` against what is deployed (a status store) instead of a base revision, and
`gitflink status --data-dir` for the embedded runtime's status files."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.gitrepos import run_git
from test_plan_cli_scenarios import SAVEPOINT, commit, deployment, edit

from gitflink.adapters.local_runtime.cluster import ClusterState
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.cli import main
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
    SnapshotKind,
)

ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")


def deployed(data_dir: Path, doc: dict[str, Any], **job: Any) -> None:
    """Record `doc` as applied in the embedded runtime's status files, job as given."""
    resource = FlinkDeployment.model_validate(doc)
    spec = resource.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    status = ResourceStatus(
        lifecycle_state=job.pop("lifecycle", LifecycleState.STABLE),
        reconciliation=ReconciliationStatus(last_applied_spec=spec),
        job_status=JobStatus(job_id="a" * 32, **job),
        applied_revision="f" * 40,
    )
    FileStatusStore(data_dir).save(resource.id, status, "test")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_plan_compares_head_with_the_deployed_spec_not_the_previous_commit(
    tmp_path: Path,
) -> None:
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    # Git's previous commit already says --v2, but the deployed job still runs --v1 (say the
    # upgrade failed): the plan must be against what runs.
    commit(repo, [edit(SAVEPOINT, "spec.job.args", ["--v2"])], "v2")
    commit(repo, [edit(SAVEPOINT, "spec.job.args", ["--v3"])], "v3")
    deployed(data, edit(SAVEPOINT, "spec.job.args", ["--v1"]), state="RUNNING")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    result = json.loads(text)
    assert code == 0
    assert result["baseline"] == "deployed"
    (change,) = result["changes"]
    assert change["action"] == "upgrade" and change["upgradeMode"] == "savepoint"
    assert [(f["from"], f["to"]) for f in change["fields"]] == [(["--v1"], ["--v3"])]


def test_plan_against_status_restores_a_suspended_job_from_its_recorded_savepoint(
    tmp_path: Path,
) -> None:
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [SAVEPOINT], "resume")
    savepoint = Snapshot(path="file:///sp/savepoint-42", kind=SnapshotKind.SAVEPOINT)
    suspended = edit(SAVEPOINT, "spec.job.state", "suspended")
    deployed(
        data,
        suspended,
        state="SUSPENDED",
        lifecycle=LifecycleState.SUSPENDED,
        last_savepoint=savepoint,
        upgrade_savepoint_path=savepoint.path,
    )
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    (change,) = json.loads(text)["changes"]
    assert code == 0
    assert change["action"] == "resume"
    assert change["stateLoss"] is False
    assert "file:///sp/savepoint-42" in json.dumps(change["steps"])


def test_resource_deployed_but_gone_from_git_plans_a_delete(tmp_path: Path) -> None:
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [deployment("other", upgradeMode="stateless")], "only other")
    deployed(data, SAVEPOINT, state="RUNNING")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    actions = {c["name"]: c["action"] for c in json.loads(text)["changes"]}
    assert code == 0
    assert actions == {"orders": "delete", "other": "deploy"}


def test_plan_needs_a_base_or_a_status_store_and_says_so_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(tmp_path, "init", "-q")
    commit(tmp_path, [SAVEPOINT], "one")
    assert run("plan", "--repo", str(tmp_path))[0] == 2
    assert "give --base REV, or --data-dir/--status-repo" in capsys.readouterr().err


def test_status_reads_the_embedded_runtime_files(tmp_path: Path) -> None:
    deployed(tmp_path, SAVEPOINT, state="RUNNING")
    code, text = run("status", "--data-dir", str(tmp_path))
    assert code == 0
    header, row = text.splitlines()
    assert header.split()[:6] == ["NAME", "KIND", "READY", "REASON", "LIFECYCLE", "JOB"]
    assert row.split()[:6] == [
        "streaming/orders",
        "FlinkDeployment",
        "Unknown",
        "-",
        "STABLE",
        "RUNNING",
    ]
    code, text = run("status", "--data-dir", str(tmp_path), "-o", "json")
    assert json.loads(text)[str(ORDERS)]["jobStatus"]["state"] == "RUNNING"


def test_rescale_against_status_assumes_the_running_job_has_a_checkpoint(tmp_path: Path) -> None:
    """Status does not follow periodic checkpoints: the review plan assumes a running job has
    one (the pass asks Flink and plans a full upgrade when it has none)."""
    adaptive = edit(SAVEPOINT, "spec.flinkConfiguration.[jobmanager.scheduler]", "adaptive")
    adaptive = edit(adaptive, "spec.mode", "standalone")  # SCALE only in standalone mode
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [edit(adaptive, "spec.job.parallelism", 3)], "p3")
    deployed(data, adaptive, state="RUNNING")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    (change,) = json.loads(text)["changes"]
    assert code == 0
    assert (change["action"], change["downtime"]) == ("scale", "rescale")
    assert [step["type"] for step in change["steps"]] == ["Rescale"]


def test_plan_reads_what_is_deployed_from_the_status_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's status branch as the baseline: the same plan as from status files."""
    monkeypatch.setenv("GITFLINK_CACHE_DIR", str(tmp_path / "cache"))
    repo, bare = tmp_path / "repo", tmp_path / "status.git"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [edit(SAVEPOINT, "spec.job.args", ["--v3"])], "v3")
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    resource = FlinkDeployment.model_validate(edit(SAVEPOINT, "spec.job.args", ["--v1"]))
    spec = resource.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    agent = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "agent")
    agent.save(
        resource.id,
        ResourceStatus(
            lifecycle_state=LifecycleState.STABLE,
            reconciliation=ReconciliationStatus(last_applied_spec=spec),
            job_status=JobStatus(job_id="a" * 32, state="RUNNING"),
        ),
        "deployed",
    )
    agent.flush()
    code, text = run("plan", "--repo", str(repo), "--status-repo", bare.as_uri(), "-o", "json")
    result = json.loads(text)
    assert code == 0 and result["baseline"] == "deployed"
    (change,) = result["changes"]
    assert change["action"] == "upgrade"
    assert [(f["from"], f["to"]) for f in change["fields"]] == [(["--v1"], ["--v3"])]


def test_plan_against_status_holds_back_what_a_broken_file_may_declare(tmp_path: Path) -> None:
    """As sync does: a file that no longer parses may be where a deployed resource lives, so the
    plan never shows it deleted."""
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    clicks = deployment("clicks", upgradeMode="savepoint")
    commit(repo, [clicks], "clicks")  # a healthy file, so this is no mass prune
    (repo / "orders.yaml").write_text("apiVersion: flink.apache.org/v1beta1\nkind: [unclosed\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "broken")
    deployed(data, SAVEPOINT, state="RUNNING")
    deployed(data, clicks, state="RUNNING")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    result = json.loads(text)
    assert code == 1  # the broken file is an error
    assert [c for c in result["changes"] if c["action"] == "delete"] == []


def test_plan_against_the_data_dir_observes_a_lost_cluster_and_shows_its_recovery(
    tmp_path: Path,
) -> None:
    """The data dir ran a cluster whose processes are gone (a reboot): the plan asks the
    runtime instead of trusting the recorded RUNNING, and restores the retained checkpoint."""
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    commit(repo, [SAVEPOINT], "orders")
    deployed(data, SAVEPOINT, state="RUNNING")
    checkpoints = tmp_path / "checkpoints"
    metadata = checkpoints / ("a" * 32) / "chk-7" / "_metadata"
    metadata.parent.mkdir(parents=True)
    metadata.write_bytes(b"done")
    (checkpoints / ("a" * 32) / "chk-8").mkdir()  # in progress when it died: never completed
    cluster_dir = data / "clusters" / "streaming" / "orders"
    cluster_dir.mkdir(parents=True)
    dead = ClusterState(
        namespace="streaming",
        name="orders",
        root=str(cluster_dir),
        version="1.20.5",
        flink_home="/nowhere",
        rest_port=1,
        rpc_port=2,
        slots_per_tm=1,
        fingerprint="x",
        jm_pid=2**22 + 1,  # above any pid this machine hands out
        checkpoint_dir=f"file://{checkpoints}",
    )
    dead.save(cluster_dir / "cluster.json")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "json")
    (change,) = json.loads(text)["changes"]
    assert code == 0
    assert change["action"] == "recover"
    assert "cluster is gone" in change["drift"]
    assert f"file:{metadata.parent}" in json.dumps(change["steps"])


def test_plan_against_status_shows_the_resumption_of_an_interrupted_upgrade(
    tmp_path: Path,
) -> None:
    """A crash after the old job stopped with its savepoint: the write-ahead record says so,
    and `gitflink plan` shows the submit that finishes the change, from that savepoint."""
    repo, data = tmp_path / "repo", tmp_path / "data"
    repo.mkdir()
    run_git(repo, "init", "-q")
    v2 = edit(SAVEPOINT, "spec.job.args", ["--v2"])
    commit(repo, [v2], "v2")
    deployed(data, SAVEPOINT, state="FINISHED", upgrade_savepoint_path="file:///sp/stop-1")
    store = FileStatusStore(data)
    status = store.load(ORDERS)
    assert status is not None
    target = FlinkDeployment.model_validate(v2).spec.model_dump(by_alias=True, mode="json")
    status.pending = PendingChange(
        action=Action.UPGRADE,
        target_spec=target,
        stop_snapshot=Snapshot(path="file:///sp/stop-1", kind=SnapshotKind.SAVEPOINT),
    )
    store.save(ORDERS, status, "crashed after the stop")
    code, text = run("plan", "--repo", str(repo), "--data-dir", str(data), "-o", "text")
    assert code == 0
    assert "resumes the interrupted upgrade" in text
    assert "submit job streaming/orders restoring from file:///sp/stop-1" in text
