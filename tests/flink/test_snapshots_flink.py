"""Savepoint management on real Flink 1.20, one cluster through the whole story: periodic
savepoints and checkpoints, the history trimmed with the dropped savepoints' directories really
disposed, a FlinkStateSnapshot triggered to COMPLETED and disposed when it leaves Git,
`gitflink savepoint` and `gitflink history`, and a final savepoint when the deployment leaves
Git."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.sync_flink_support import (
    FlinkWorld,
    app_manifest,
    flink_world,
    local_runtime,
    wait_counting,
    yaml_bytes,
)

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.cli import main
from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.status import SnapshotKind, SnapshotState

pytestmark = [pytest.mark.flink, pytest.mark.slow]
__all__ = ["local_runtime"]  # a fixture, imported for pytest to find

VERSION = "v1_20"
APP = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "snaps")
SNAPSHOT = ResourceId(Kind.FLINK_STATE_SNAPSHOT, "it", "snaps-sp")
INTERVAL = 2.0  # seconds between periodic snapshots


def on_disk(path: str) -> Path:
    return Path(path.removeprefix("file://").removeprefix("file:"))


def app() -> bytes:
    manifest = app_manifest(VERSION, "snaps")
    manifest["spec"]["flinkConfiguration"].update(
        {
            "kubernetes.operator.periodic.savepoint.interval": f"{INTERVAL:.0f} s",
            "kubernetes.operator.periodic.checkpoint.interval": f"{INTERVAL:.0f} s",
            "kubernetes.operator.savepoint.history.max.count": "2",
            "kubernetes.operator.savepoint.dispose-on-delete": "true",
        }
    )
    return yaml_bytes(manifest)


SNAPSHOT_MANIFEST = yaml_bytes(
    {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "snaps-sp", "namespace": "it"},
        "spec": {
            "jobReference": {"kind": "FlinkDeployment", "name": "snaps"},
            "savepoint": {"disposeOnDelete": True},
            "backoffLimit": 0,
        },
    }
)


def periodic_pass(world: FlinkWorld) -> None:
    time.sleep(INTERVAL + 0.2)
    world.sync()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document: dict[str, object] = json.loads(captured.out)
    return document


def test_savepoints_are_taken_kept_disposed_and_listed(
    local_runtime: LocalRuntime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = local_runtime.data_dir  # the CLI finds clusters and status files there
    world = flink_world(local_runtime, data_dir, {"it/snaps.yaml": app()})
    world.sync()
    job_id = job_id_for(APP, 1)
    wait_counting(world.api(APP), job_id, 3)

    # Periodic savepoints and checkpoints while the job runs; the history keeps two.
    for _ in range(3):
        periodic_pass(world)
    world.sync()  # trims what the last periodic savepoint pushed over the limit
    status = world.status(APP)
    taken = [e.path for e in status.lineage if e.use == "periodic" and e.kind.value == "savepoint"]
    assert len(taken) >= 3
    checkpoints = [e for e in status.lineage if e.kind is SnapshotKind.CHECKPOINT]
    assert checkpoints and all(e.use == "periodic" for e in checkpoints)
    kept = [s.path for s in status.job_status.savepoint_history]
    assert kept == taken[-2:]
    for path in taken[:-2]:
        assert not on_disk(path).exists(), f"{path} was dropped but not disposed"
    for path in kept:
        assert (on_disk(path) / "_metadata").is_file()
    assert world.running_jobs(APP) == [job_id]  # never restarted for any of it

    # A FlinkStateSnapshot: triggered to COMPLETED; its data disposed when it leaves Git.
    world.commit({"it/snaps.yaml": app(), "it/sp.yaml": SNAPSHOT_MANIFEST})
    world.sync()
    snapshot = world.status(SNAPSHOT).snapshot
    assert snapshot is not None and snapshot.state is SnapshotState.COMPLETED
    assert snapshot.path is not None and (on_disk(snapshot.path) / "_metadata").is_file()
    world.commit({"it/snaps.yaml": app()})
    world.sync()
    assert not on_disk(snapshot.path).exists()

    # `gitflink savepoint`, then `gitflink history` from the same data dir.
    args = ["--data-dir", str(data_dir), "-o", "json"]
    one_off = cli(capsys, "savepoint", "it/snaps", *args)
    assert isinstance(one_off["path"], str) and (on_disk(one_off["path"]) / "_metadata").is_file()
    listed = cli(capsys, "history", "it/snaps", *args)
    [(name, entries)] = listed.items()
    assert name == str(APP) and isinstance(entries, list)
    uses = {entry["use"] for entry in entries}
    assert {"periodic", "snapshot snaps-sp", "one-off"} <= uses
    assert entries[0]["path"] == one_off["path"]  # newest first
    assert all(entry["revision"] == "a" * 40 for entry in entries)  # the spec that ran

    # Removed from Git: a final savepoint, recorded before the cluster goes.
    world.commit({})
    world.sync(allow_mass_prune=True)
    assert local_runtime.find_cluster(APP) is None
    gone = world.status(APP)
    final = gone.history[0]
    assert final.action == "delete" and final.savepoint is not None
    assert (on_disk(final.savepoint) / "_metadata").is_file()
    assert gone.lineage[-1].use == "delete" and gone.lineage[-1].path == final.savepoint
