"""The crash matrix on real Flink (1.20): gitflink SIGKILLed at every crash point of deploy,
savepoint and last-state upgrade, suspend and resume, a FlinkStateSnapshot (status files), and
of a session job change and a session cluster upgrade (the Git status branch, its journal and
write-ahead ref included). After each kill a restarted pass finishes the change: one job, no
second submission, restored from the recorded snapshot, never with empty state.
docs/recovery.md#crash-safety."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.crash_matrix import (
    Before,
    Files,
    Workflow,
    World,
    git,
    not_restarted_empty,
    only_new_job,
    run_matrix,
    savepoints_of,
)
from support.flink_fixtures import stop_everything, wait_for
from support.sync_flink_support import JAR, app_manifest, yaml_bytes

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.model.fingerprints import spec_digest
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.observed import TERMINAL
from gitflink.model.resources import FlinkDeployment, UpgradeMode
from gitflink.model.status import LifecycleState, ReconciliationState, SnapshotState
from gitflink.runtime.context import same_path
from gitflink.settings import Settings

# Every point is a killed pass and a restarted one on real Flink: minutes, not seconds.
pytestmark = [pytest.mark.flink, pytest.mark.slow, pytest.mark.timeout(1800)]
VERSION = "v1_20"  # the points do not depend on the version; test_crash_flink.py runs both
APP = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "mx-app")
SESSION = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "mx-session")
SESSION_JOB = ResourceId(Kind.FLINK_SESSION_JOB, "it", "mx-job")
SAVEPOINT = UpgradeMode.SAVEPOINT


def _app(n: int, **changes: object) -> Files:
    manifest = app_manifest(VERSION, APP.name, rate=100 + n, **changes)  # type: ignore[arg-type]
    return {"app.yaml": yaml_bytes(manifest)}


def _session(n: int, *, slots: int = 4) -> Files:
    cluster = app_manifest(VERSION, SESSION.name)
    del cluster["spec"]["job"]
    cluster["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = slots
    job = {"jarURI": JAR, "entryClass": "gitflink.testjob.CounterJob", "parallelism": 1}
    job |= {"args": ["--rate", str(100 + n), "--counter-uid", "mx"], "upgradeMode": "savepoint"}
    session_job = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": SESSION_JOB.name, "namespace": "it"},
        "spec": {"deploymentName": SESSION.name, "job": job},
    }
    return {"session.yaml": yaml_bytes(cluster), "job.yaml": yaml_bytes(session_job)}


def _cluster_only(n: int) -> Files:
    return {"session.yaml": _session(0)["session.yaml"]}


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    return repo


@pytest.fixture
def local_runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    """A runtime of its own per test: clusters of one test never see another's job ids."""
    runtime = LocalRuntime(tmp_path / "runtime", Settings.from_env().cache_dir, ready_timeout=120)
    try:
        yield runtime
    finally:
        stop_everything(tmp_path / "runtime")


def _last_state(n: int) -> Files:
    return _app(n, mode="last-state")


def _suspended(n: int) -> Files:
    return _app(0, state="suspended")


def _snapshot_name(n: int) -> str:
    return f"mx-snap-{n}"


def _with_snapshot(n: int) -> Files:
    """The application unchanged, and a new FlinkStateSnapshot of it in each attempt (one that
    completed is final, as upstream; the earlier ones stay in Git)."""
    files = _app(0)
    for i in range(1, n + 1):
        snapshot = {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkStateSnapshot",
            "metadata": {"name": _snapshot_name(i), "namespace": "it"},
            "spec": {
                "jobReference": {"kind": "FlinkDeployment", "name": APP.name},
                "savepoint": {},
            },
        }
        files[f"snapshot-{i}.yaml"] = yaml_bytes(snapshot)
    return files


def _snapshot_taken_once(world: World, before: Before, where: str, n: int) -> None:
    """The snapshot COMPLETED with one savepoint of the running job, which runs on untouched."""
    snapshot = ResourceId(Kind.FLINK_STATE_SNAPSHOT, "it", _snapshot_name(n))
    status = world.load(snapshot)
    assert status is not None and status.snapshot is not None, where
    assert status.snapshot.state is SnapshotState.COMPLETED, (where, status.snapshot)
    assert status.pending is None and status.snapshot.path, where
    app = world.load(APP)
    job = before[0].job_status.job_id if before[0] is not None else None
    assert app is not None and job is not None and app.job_status.job_id == job, where
    alive = [j for j, state in world.jobs(SNAPSHOT_OF_APP).items() if state not in TERMINAL]
    assert alive == [job], (where, "the job was touched")
    # One savepoint for the snapshot's trigger: a restarted pass re-attached, never re-triggered.
    taken = [s for s in app.job_status.savepoint_history if s.owner is not None]
    assert [s.path for s in taken].count(status.snapshot.path) == 1, where
    directory = Path(status.snapshot.path.removeprefix("file:").removeprefix("//")).parent
    mine = [p for p in directory.iterdir() if p.name.startswith(f"savepoint-{job[:6]}")]
    assert len(mine) == len({s.path for s in app.job_status.savepoint_history}), (where, mine)


SNAPSHOT_OF_APP = Workflow("snapshot", APP, APP, _with_snapshot)


APPLICATION = {
    "savepoint upgrade": [Workflow("savepoint upgrade", APP, APP, _app, restores=SAVEPOINT)],
    "last-state upgrade": [
        Workflow("last-state upgrade", APP, APP, _last_state, restores=UpgradeMode.LAST_STATE)
    ],
    "suspend and resume": [
        Workflow("suspend", APP, APP, _suspended, ends="suspended"),
        Workflow("resume", APP, APP, _app, restores=SAVEPOINT),
    ],
    "FlinkStateSnapshot": [
        Workflow("snapshot", APP, APP, _with_snapshot, verify=_snapshot_taken_once),
    ],
}


@pytest.mark.parametrize("cycle", list(APPLICATION))
def test_every_crash_point_of_an_application(
    cycle: str, local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    world = World(_repo(tmp_path), local_runtime, str(tmp_path / "status"))
    try:
        world.commit(_app(0))
        world.sync()
        run_matrix(world, APPLICATION[cycle])
    finally:
        _report(world)
        local_runtime.delete_cluster(APP)


def test_every_crash_point_of_session_job_changes_on_the_status_branch(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    remote = tmp_path / "status.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    status = f"git:{remote}#{tmp_path / 'status-cache'}"
    world = World(_repo(tmp_path), local_runtime, status)
    try:
        world.commit(_session(0))
        world.sync()
        # Deploying a FlinkDeployment adds the points of a cluster start, covered by the
        # session cluster's upgrade: its job alone keeps the matrix short.
        deploy = Workflow("deploy", SESSION_JOB, SESSION, _session, reset=_cluster_only)
        run_matrix(world, [deploy])
        mode = UpgradeMode.SAVEPOINT
        change = Workflow("session job change", SESSION_JOB, SESSION, _session, restores=mode)
        run_matrix(world, [change])
    finally:
        _report(world)
        local_runtime.delete_cluster(SESSION)


def test_every_crash_point_of_a_session_cluster_upgrade(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    world = World(_repo(tmp_path), local_runtime, str(tmp_path / "status"))
    try:
        world.commit(_session(0))
        world.sync()

        def cluster_change(n: int) -> Files:
            return _session(0, slots=4 - n % 2)  # every attempt changes the cluster

        mode = UpgradeMode.SAVEPOINT
        upgrade = Workflow(
            "session cluster upgrade", SESSION_JOB, SESSION, cluster_change, restores=mode
        )
        run_matrix(world, [upgrade])
    finally:
        _report(world)
        local_runtime.delete_cluster(SESSION)


ROLLBACK_CONF = {
    "kubernetes.operator.deployment.rollback.enabled": "true",
    "restart-strategy.type": "none",
}
WINDOW = "3"  # seconds a change is watched (GITFLINK_STABILITY_WINDOW): the first gets STABLE


def _rollback_manifest(n: int) -> dict[str, Any]:
    """The stable spec (n = 0), or attempt n's upgrade: its job cannot restore the savepoint it
    starts from (its counter has another uid), so Flink fails it at once."""
    manifest = app_manifest(VERSION, APP.name, rate=100)
    manifest["spec"]["flinkConfiguration"].update(ROLLBACK_CONF)
    if n:
        manifest["spec"]["job"]["args"] += ["--counter-uid", f"rejected-{n}"]
    return manifest


def _rollback_spec(n: int) -> Files:
    return {"app.yaml": yaml_bytes(_rollback_manifest(n))}


def _failed_upgrade(world: World, n: int) -> None:
    """Attempt n's upgrade applied, uncrashed: its savepoint taken, its job FAILED. The pass
    under test is the next one, the rollback."""
    world.commit(_rollback_spec(n))
    world.sync(ok=False)
    status = world.load(APP)
    assert status is not None and status.pending is not None, status
    job = status.pending.submitted_job_id
    failed = lambda: world.jobs(ROLLBACK).get(job or "") == "FAILED" or None  # noqa: E731
    wait_for(failed, 60.0, f"the upgrade's job {job} to fail")


def _rolled_back(world: World, before: Before, where: str, n: int) -> None:
    """ROLLED_BACK with attempt n's spec rejected: the stable spec runs, one job submitted,
    restored from the savepoint the upgrade started from; Git's spec is not tried again."""
    status = world.load(APP)
    assert status is not None and status.error is None and status.pending is None, where
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK, where
    assert status.reconciliation.state is ReconciliationState.ROLLED_BACK, where
    rec, failed = status.reconciliation, before[0]
    assert rec.rollback is not None and failed is not None, where
    rejected = FlinkDeployment.model_validate(_rollback_manifest(n))
    digest = spec_digest(rejected.to_manifest()["spec"])
    assert rec.rollback.git_digest == digest, where
    assert rec.last_applied_spec == rec.last_stable_spec, where
    started = failed.job_status.last_savepoint  # what the upgrade stopped its job with
    assert started is not None and rec.rollback.restore_point == started.path, where
    job = status.job_status.job_id
    assert job is not None, where
    only_new_job(world, ROLLBACK, before, job, where)
    api = world.api(APP)
    restored = api.checkpoints(job).restored
    assert same_path(restored, started.path), (where, restored, started.path)
    assert status.job_status.restored_from is not None, where
    assert same_path(status.job_status.restored_from.path, started.path), where
    assert savepoints_of(started.path, started.job_id) == 1, where
    not_restarted_empty(api, job, where)
    listed = world.jobs(ROLLBACK)
    world.sync()  # Git still asks for the rejected spec: it is not tried again
    assert world.jobs(ROLLBACK) == listed, (where, "the rejected spec was tried again")
    again = world.load(APP)
    assert again is not None and again.job_status.job_id == job, where
    assert again.lifecycle_state is LifecycleState.ROLLED_BACK, where


ROLLBACK = Workflow(
    "rollback", APP, APP, _rollback_spec, prepare=_failed_upgrade, verify=_rolled_back
)


def test_every_crash_point_of_a_rollback(
    local_runtime: LocalRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attempt: an upgrade fails (uncrashed), then its rollback is killed at a point."""
    monkeypatch.setenv("GITFLINK_STABILITY_WINDOW", WINDOW)  # the crashing process's too
    world = World(_repo(tmp_path), local_runtime, str(tmp_path / "status"))
    try:
        world.commit(_rollback_spec(0))
        world.sync()
        job = world.load(APP).job_status.job_id  # type: ignore[union-attr]
        assert job is not None
        wait_for(lambda: world.api(APP).checkpoints(job).latest_completed, 60.0, "a checkpoint")
        time.sleep(float(WINDOW))
        world.sync()
        stable = world.load(APP)
        assert stable is not None and stable.lifecycle_state is LifecycleState.STABLE
        run_matrix(world, [ROLLBACK])
    finally:
        _report(world)
        local_runtime.delete_cluster(APP)


def _report(world: World) -> None:
    print(f"\n{len(world.covered)} crash points covered:")
    for crash in world.covered:
        print(f"  {crash.workflow} #{crash.point}: {crash.name}")
