"""An id that fails validation never becomes a path: status files, status-branch documents and
local cluster directories all stay inside their roots, whatever a manifest names itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import fake_world
from support.gitrepos import run_git

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.errors import ClusterError, StatusWriteError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeploymentSpec, FlinkVersion
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.reconciler import run_pass

HOSTILE = [
    ResourceId(Kind.FLINK_DEPLOYMENT, "../../..", "cluster"),
    ResourceId(Kind.FLINK_DEPLOYMENT, "default", "../../escape"),
    ResourceId(Kind.FLINK_SESSION_JOB, "a/b", "c"),
    ResourceId(Kind.FLINK_STATE_SNAPSHOT, "default", ".."),
    ResourceId(Kind.FLINK_DEPLOYMENT, "", "x"),
    ResourceId(Kind.FLINK_DEPLOYMENT, "default", "/etc/passwd"),
]


def manifest(namespace: str, name: str) -> bytes:
    return f"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {{name: "{name}", namespace: "{namespace}"}}
spec:
  flinkVersion: v1_20
  jobManager: {{resource: {{memory: 1g}}}}
  taskManager: {{resource: {{memory: 1g}}}}
  job: {{jarURI: "local:///opt/job.jar", parallelism: 1, upgradeMode: stateless}}
""".encode()


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


TRAVERSING = {
    "bad.yaml": manifest("../../..", "cluster"),
    "worse.yaml": manifest("default", "../../../../owned"),
}


def deep_data_dir(tmp_path: Path) -> Path:
    """Deep enough that `../../..` from the status or clusters folder stays under tmp_path."""
    data = tmp_path / "deep" / "er" / "data"
    data.mkdir(parents=True)
    return data


def test_pass_over_a_traversing_namespace_writes_nothing_outside_the_data_dir(
    tmp_path: Path,
) -> None:
    data = deep_data_dir(tmp_path)
    world = fake_world({**TRAVERSING, "good.yaml": manifest("default", "orders")})
    store = FileStatusStore(data)
    ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
    result = run_pass(ports)
    outside = files_under(tmp_path) - files_under(data)
    assert outside == set()
    assert not result.ok
    messages = [p.message for p in result.problems if p.is_error]
    assert any("invalid namespace '../../..'" in m for m in messages)
    assert any("invalid name '../../../../owned'" in m for m in messages)
    # The valid resource next to them is deployed and recorded as usual.
    assert store.load(ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")) is not None
    assert [r.namespace for r in world.runtime.started] == ["default"]


@pytest.mark.parametrize("resource", HOSTILE, ids=str)
def test_file_store_refuses_an_invalid_id_before_touching_disk(
    tmp_path: Path, resource: ResourceId
) -> None:
    store = FileStatusStore(tmp_path / "data")
    with pytest.raises(StatusWriteError, match="not a valid resource id"):
        store.save(resource, ResourceStatus(), "hostile")
    with pytest.raises(StatusWriteError, match="not a valid resource id"):
        store.delete(resource, "hostile")
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("resource", HOSTILE, ids=str)
def test_local_runtime_never_builds_a_cluster_path_from_an_invalid_id(
    tmp_path: Path, resource: ResourceId
) -> None:
    runtime = LocalRuntime(tmp_path / "data", tmp_path / "cache")
    with pytest.raises(ClusterError, match="not a valid resource id"):
        runtime.ensure_cluster(resource, FlinkDeploymentSpec(flinkVersion=FlinkVersion.V1_20))
    # Such a cluster can never have been started: found nowhere, deleted without a path.
    assert runtime.find_cluster(resource) is None
    runtime.delete_cluster(resource)
    assert files_under(tmp_path) == set()


def test_pass_on_the_local_runtime_over_hostile_ids_writes_nothing_outside_the_data_dir(
    tmp_path: Path,
) -> None:
    data = deep_data_dir(tmp_path)
    world = fake_world(TRAVERSING)
    runtime = LocalRuntime(data, tmp_path / "cache")
    store = FileStatusStore(data)
    ports = Ports(world.source, runtime, world.runtime.api, store, world.clock)
    result = run_pass(ports)
    assert not result.ok and result.error is None
    assert files_under(tmp_path) - files_under(data) == set()
    assert runtime.list_clusters() == []


def test_status_branch_refuses_an_invalid_id_and_reports_a_stray_document(
    tmp_path: Path,
) -> None:
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(remote))
    store = GitStatusStore(remote.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None)
    with pytest.raises(StatusWriteError, match="not a valid resource id"):
        store.save(HOSTILE[0], ResourceStatus(), "hostile")
    # A document someone committed at a path no valid resource maps to is reported, not lost.
    work = tmp_path / "work"
    run_git(tmp_path, "clone", "-q", str(remote), str(work))
    run_git(work, "checkout", "-q", "-b", "gitflink/status")
    stray = work / "status" / "Bad_NS" / "flinkdeployment" / "x.yaml"
    stray.parent.mkdir(parents=True)
    stray.write_text("lifecycleState: STABLE\n")
    run_git(work, "add", "-A")
    run_git(work, "commit", "-q", "-m", "stray")
    run_git(work, "push", "-q", "origin", "gitflink/status")
    store.refresh()
    loaded = store.load_all()
    assert dict(loaded) == {}
    [corrupt] = loaded.corrupt  # type: ignore[attr-defined]
    assert corrupt.path == "status/Bad_NS/flinkdeployment/x.yaml"
    assert corrupt.resource is None
