"""gitflink passes on the Kubernetes runtime against the test bed: the `k8s_world` fixture (an
in-memory Git source, the runtime on the test namespace, status files, REST at the pod IPs);
`cr_k8s_world` with status as custom resources."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.kubelet import ProcessKubelet

from gitflink import wiring
from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.ports import Ports, StatusStore
from gitflink.settings import Settings
from support.fakes import FakeGitSource
from support.sync_flink_support import FlinkWorld, app_manifest, yaml_bytes


@pytest.fixture
def k8s_world(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet, tmp_path: Path
) -> Iterator[FlinkWorld]:
    yield from _world(kube_api, FileStatusStore(tmp_path / "status"), tmp_path)


@pytest.fixture
def cr_k8s_world(
    kube_api: k8s.ApiClient,
    namespace: str,
    process_kubelet: ProcessKubelet,
    flink_crds: list[str],
    tmp_path: Path,
) -> Iterator[FlinkWorld]:
    """The same, with status as custom resources (`--status cr`)."""
    store = CrStatusStore(KubeRequests(kube_api, SystemClock()), instance=namespace)
    yield from _world(kube_api, store, tmp_path)


def _world(kube_api: k8s.ApiClient, store: StatusStore, tmp_path: Path) -> Iterator[FlinkWorld]:
    settings = dataclasses.replace(
        Settings.from_env(), data_dir=tmp_path / "data", flink_rest_url="http://{pod_ip}:8081"
    )
    runtime = wiring.kubernetes_runtime_for(kube_api, settings, SystemClock())
    source = FakeGitSource({})
    rest = wiring.RestClients()
    try:
        yield FlinkWorld(source, Ports(source, runtime, rest, store, SystemClock()), store)
    finally:
        rest.close()


def k8s_app_manifest(
    name: str, namespace: str, state_dir: Path, **changes: object
) -> dict[str, bytes]:
    """One application on the test bed: Flink 1.20, one slot per TaskManager, the default
    scheduler, state under `state_dir`; `changes` go to app_manifest (parallelism, rate...)."""
    job: dict[str, object] = {"parallelism": 1, "rate": 20, **changes}
    doc = app_manifest("v1_20", name, namespace=namespace, **job)  # type: ignore[arg-type]
    conf = doc["spec"]["flinkConfiguration"]
    # The default scheduler: an application starts its job once every slot is there. The
    # adaptive one would start with the first TaskManager and rescale (restoring a checkpoint
    # of its own, which hides the savepoint it restored first).
    conf = {k: v for k, v in conf.items() if "adaptive" not in str(k) + str(v)}
    doc["spec"]["flinkConfiguration"] = conf
    conf["taskmanager.numberOfTaskSlots"] = 1
    conf["state.savepoints.dir"] = f"file://{state_dir}/savepoints"
    conf["state.checkpoints.dir"] = f"file://{state_dir}/checkpoints"
    doc["spec"]["image"] = "flink:1.20"
    return {f"{namespace}/{name}.yaml": yaml_bytes(doc)}


def replaced(core: k8s.CoreV1Api, namespace: str, selector: str, old: str) -> bool | None:
    """The pod `old` (deleted) is replaced by its Deployment's new one, ready, and gone."""
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    fresh = [p for p in pods if p.metadata.name != old and not p.metadata.deletion_timestamp]
    ready = [
        p for p in fresh
        if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]  # fmt: skip
    return True if ready and len(pods) == 1 else None
