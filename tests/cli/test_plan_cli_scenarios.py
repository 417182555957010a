"""Every planning rule that Git alone can show, one row per scenario, on a real repository:
commit the base, commit the change, run `gitflink plan -o json`, check the planned change."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.gitrepos import run_git

from gitflink.cli import main

Doc = dict[str, Any]


def deployment(name: str = "orders", **job: Any) -> Doc:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "streaming"},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "2",
                "jobmanager.memory.process.size": "1g",
                "taskmanager.memory.process.size": "1g",
                "state.checkpoints.dir": "file:///flink/checkpoints",
                "state.savepoints.dir": "file:///flink/savepoints",
            },
            "job": {"jarURI": "local:///opt/job.jar", "parallelism": 2, **job},
        },
    }


def session_cluster() -> Doc:
    doc = deployment("shared")
    del doc["spec"]["job"]
    return doc


def session_job(mode: str = "savepoint") -> Doc:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "enrich", "namespace": "streaming"},
        "spec": {
            "deploymentName": "shared",
            "job": {"jarURI": "local:///opt/enrich.jar", "parallelism": 1, "upgradeMode": mode},
        },
    }


def edit(doc: Doc, path: str, value: Any) -> Doc:
    """A copy of `doc` with the dotted `path` set (a `[key]` segment keeps dots in one key)."""
    doc = copy.deepcopy(doc)
    keys = [
        bracketed or plain for bracketed, plain in re.findall(r"\[([^\]]+)\]|([^.\[\]]+)", path)
    ]
    target = doc
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
    return doc


@dataclass
class Row:
    name: str
    base: list[Doc]
    head: list[Doc]
    expect: dict[str, Any]
    steps: list[str] = field(default_factory=list)
    resource: str = "orders"
    flags: tuple[str, ...] = ()


SAVEPOINT = deployment(upgradeMode="savepoint")
LAST_STATE = deployment(upgradeMode="last-state")
STATELESS = deployment(upgradeMode="stateless")
ADAPTIVE = edit(SAVEPOINT, "spec.flinkConfiguration.[jobmanager.scheduler]", "adaptive")
# job.parallelism is SCALE in standalone mode only; in native mode (unset) it is UPGRADE.
STANDALONE = edit(SAVEPOINT, "spec.mode", "standalone")
STANDALONE_ADAPTIVE = edit(ADAPTIVE, "spec.mode", "standalone")
SUSPENDED = edit(SAVEPOINT, "spec.job.state", "suspended")
WITH_PATH = edit(SAVEPOINT, "spec.job.initialSavepointPath", "file:///sp/given")
NO_FINAL_SAVEPOINT = edit(
    SAVEPOINT, "spec.flinkConfiguration.[kubernetes.operator.job.savepoint-on-deletion]", "false"
)
NESTED_CONFIG = {
    "jobmanager": {"memory": {"process": {"size": "1g"}}},
    "taskmanager": {"numberOfTaskSlots": 2, "memory.process.size": "1g"},
    "state": {
        "checkpoints.dir": "file:///flink/checkpoints",
        "savepoints": {"dir": "file:///flink/savepoints"},
    },
}

ROWS = [
    Row(
        "new resource deploys",
        [],
        [SAVEPOINT],
        {"action": "deploy", "diff": "NEW"},
        ["StartCluster", "SubmitJob"],
    ),
    Row(
        "new resource deploys from initialSavepointPath",
        [],
        [WITH_PATH],
        {"action": "deploy", "diff": "NEW"},
        ["StartCluster", "SubmitJob:file:///sp/given"],
    ),
    Row(
        "suspended at first deploy runs nothing",
        [],
        [SUSPENDED],
        {"action": "none", "diff": "NEW"},
        ["RecordSpec"],
    ),
    Row(
        "savepoint upgrade stops with a savepoint and restores it",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.job.args", ["--v2"])],
        {
            "action": "upgrade",
            "diff": "UPGRADE",
            "upgradeMode": "savepoint",
            "stateLoss": False,
            "downtime": "restart",
        },
        ["StopJob:savepoint", "SubmitJob:taken"],
    ),
    Row(
        "last-state upgrade restores the latest checkpoint",
        [LAST_STATE],
        [edit(LAST_STATE, "spec.job.jarURI", "local:///opt/job-2.jar")],
        {"action": "upgrade", "upgradeMode": "last-state", "stateLoss": False},
        ["StopJob:last-state", "SubmitJob:taken"],
    ),
    Row(
        "stateless upgrade cancels and starts empty",
        [STATELESS],
        [edit(STATELESS, "spec.job.entryClass", "com.example.Main")],
        {"action": "upgrade", "upgradeMode": "stateless", "stateLoss": True},
        ["StopJob:stateless", "SubmitJob:empty"],
    ),
    Row(
        "cluster-level change restarts the cluster too",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.image", "flink:1.20.1")],
        {"action": "upgrade"},
        ["StopJob:savepoint", "StopCluster", "StartCluster", "SubmitJob:taken"],
    ),
    Row(
        "flinkVersion change in last-state forces a savepoint",
        [LAST_STATE],
        [edit(LAST_STATE, "spec.flinkVersion", "v2_0")],
        {"action": "upgrade", "upgradeMode": "savepoint", "stateLoss": False},
        ["StopJob:savepoint", "StopCluster", "StartCluster", "SubmitJob:taken"],
    ),
    Row(
        "parallelism rescales in place on 1.18+ with the adaptive scheduler",
        [STANDALONE_ADAPTIVE],
        [edit(STANDALONE_ADAPTIVE, "spec.job.parallelism", 4)],
        {"action": "scale", "diff": "SCALE", "downtime": "rescale", "stateLoss": False},
        ["Rescale:4"],
    ),
    Row(
        "parallelism without the adaptive scheduler is a full upgrade",
        [STANDALONE],
        [edit(STANDALONE, "spec.job.parallelism", 4)],
        {"action": "scale", "diff": "SCALE", "downtime": "restart"},
        ["StopJob:savepoint", "SubmitJob:taken"],
    ),
    Row(
        "parallelism on Flink 1.17 is a full upgrade",
        [edit(STANDALONE_ADAPTIVE, "spec.flinkVersion", "v1_17")],
        [edit(edit(STANDALONE_ADAPTIVE, "spec.flinkVersion", "v1_17"), "spec.job.parallelism", 4)],
        {"action": "scale", "downtime": "restart"},
        ["StopJob:savepoint", "SubmitJob:taken"],
    ),
    Row(
        "parallelism in native mode (mode unset) is an upgrade",
        [ADAPTIVE],
        [edit(ADAPTIVE, "spec.job.parallelism", 4)],
        {"action": "upgrade", "diff": "UPGRADE", "downtime": "restart"},
        ["StopJob:savepoint", "SubmitJob:taken"],
    ),
    Row(
        "running to suspended suspends with a savepoint",
        [SAVEPOINT],
        [SUSPENDED],
        {"action": "suspend", "stateLoss": False},
        ["StopJob:savepoint", "StopCluster"],
    ),
    Row(
        "suspended to running resumes from the recorded savepoint",
        [SUSPENDED],
        [SAVEPOINT],
        {"action": "resume", "stateLoss": False},
        ["StartCluster", "SubmitJob"],
    ),
    Row(
        "suspended with other changes records them for resume",
        [SUSPENDED],
        [edit(SUSPENDED, "spec.job.args", ["--v2"])],
        {"action": "none", "diff": "UPGRADE"},
        ["RecordSpec"],
    ),
    Row(
        "restartNonce restarts per upgrade mode",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.restartNonce", 1)],
        {"action": "restart", "stateLoss": False},
        ["StopJob:savepoint", "StopCluster", "StartCluster", "SubmitJob:taken"],
    ),
    Row(
        "savepointTriggerNonce only takes a savepoint",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.job.savepointTriggerNonce", 1)],
        {"action": "savepoint", "diff": "IGNORE", "downtime": "none"},
        ["TakeSavepoint", "RecordSpec"],
    ),
    Row(
        "checkpointTriggerNonce only takes a checkpoint",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.job.checkpointTriggerNonce", 7)],
        {"action": "checkpoint", "downtime": "none"},
        ["TakeCheckpoint", "RecordSpec"],
    ),
    Row(
        "savepointRedeployNonce redeploys from initialSavepointPath",
        [WITH_PATH],
        [edit(WITH_PATH, "spec.job.savepointRedeployNonce", 1)],
        {"action": "redeploy", "diff": "SAVEPOINT_REDEPLOY", "stateLoss": False},
        ["StopJob:stateless", "SubmitJob:file:///sp/given"],
    ),
    Row(
        "IGNORE-only change is recorded without a restart",
        [SAVEPOINT],
        [
            edit(
                SAVEPOINT,
                "spec.flinkConfiguration.[kubernetes.operator.periodic.savepoint.interval]",
                "6h",
            )
        ],
        {"action": "none", "diff": "IGNORE", "downtime": "none"},
        ["RecordSpec"],
    ),
    Row(
        "nested and dotted configuration are no change",
        [SAVEPOINT],
        [edit(SAVEPOINT, "spec.flinkConfiguration", NESTED_CONFIG)],
        {"action": "none", "diff": "NONE"},
    ),
    Row(
        "file removed takes a final savepoint of a stateful job by default",
        [SAVEPOINT],
        [],
        {"action": "delete", "diff": "REMOVED", "stateLoss": False},
        ["StopJob:savepoint", "StopCluster"],
        flags=("--allow-mass-prune",),
    ),
    Row(
        "file removed discards state only when the resource said so",
        [NO_FINAL_SAVEPOINT],
        [],
        {"action": "delete", "stateLoss": True},
        ["StopJob:stateless", "StopCluster"],
        flags=("--allow-mass-prune",),
    ),
    Row(
        "removing every manifest is refused as a mass prune",
        [SAVEPOINT],
        [],
        {"action": "blocked", "stateLoss": False},
        [],
    ),
    Row(
        "file removed with prune off is orphaned",
        [SAVEPOINT],
        [],
        {"action": "orphaned", "diff": "REMOVED"},
        [],
        flags=("--no-prune",),
    ),
    Row(
        "session cluster upgrade carries session jobs through savepoints",
        [session_cluster(), session_job()],
        [edit(session_cluster(), "spec.image", "flink:1.20.1"), session_job()],
        {"action": "upgrade", "stateLoss": False, "downtime": "restart"},
        ["StopJob:savepoint", "StopCluster", "StartCluster", "SubmitJob:taken"],
        resource="shared",
    ),
]


def describe_step(step: dict[str, Any]) -> str:
    kind = step["type"]
    if kind == "StopJob":
        return f"StopJob:{step['mode']}"
    if kind == "SubmitJob":
        restore = step["restore"]
        if restore is None:
            return "SubmitJob:empty"
        return f"SubmitJob:{restore['path'] or restore['source']}"
    if kind == "Rescale":
        return f"Rescale:{step['parallelism']}"
    return str(kind)


def write(root: Path, docs: list[Doc]) -> None:
    for old in root.glob("*.yaml"):
        old.unlink()
    for doc in docs:
        name = f"{doc['kind']}-{doc['metadata']['name']}.yaml"
        (root / name).write_text(json.dumps(doc, indent=2))


def commit(root: Path, docs: list[Doc], message: str) -> str:
    write(root, docs)
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "--allow-empty", "-m", message)
    return run_git(root, "rev-parse", "HEAD")


def plan_json(tmp_path: Path, base: list[Doc], head: list[Doc], *flags: str) -> tuple[int, Any]:
    run_git(tmp_path, "init", "-q")
    base_sha = commit(tmp_path, base, "base")
    head_sha = commit(tmp_path, head, "head")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(
            [
                "plan",
                "--repo",
                str(tmp_path),
                "--base",
                base_sha,
                "--head",
                head_sha,
                "-o",
                "json",
                *flags,
            ]
        )
    return code, json.loads(buffer.getvalue())


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_scenario_plans_as_expected(tmp_path: Path, row: Row) -> None:
    code, plan = plan_json(tmp_path, row.base, row.head, *row.flags)
    assert code == 0
    assert plan["baseline"] == "revision"
    changes = {change["name"]: change for change in plan["changes"]}
    if row.expect.get("diff") == "NONE":
        assert row.resource not in changes
        return
    change = changes[row.resource]
    assert {key: change[key] for key in row.expect} == row.expect
    steps = [describe_step(step) for step in change["steps"]]
    assert len(steps) == len(row.steps), steps
    # An expected step without ":" checks the step type only.
    shown = [s if ":" in e else s.split(":")[0] for s, e in zip(steps, row.steps, strict=True)]
    assert shown == row.steps
