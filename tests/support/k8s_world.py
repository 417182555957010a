"""gitflink passes on the Kubernetes runtime against the test bed: the `k8s_world` fixture (an
in-memory Git source, the runtime on the test namespace, status files, REST at the pod IPs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.kubelet import ProcessKubelet

from gitflink import wiring
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.ports import Ports
from gitflink.settings import Settings
from support.fakes import FakeGitSource
from support.sync_flink_support import FlinkWorld


@pytest.fixture
def k8s_world(
    kube_api: k8s.ApiClient, namespace: str, process_kubelet: ProcessKubelet, tmp_path: Path
) -> Iterator[FlinkWorld]:
    settings = dataclasses.replace(
        Settings.from_env(), data_dir=tmp_path / "data", flink_rest_url="http://{pod_ip}:8081"
    )
    runtime = wiring.kubernetes_runtime_for(kube_api, settings, SystemClock())
    store = FileStatusStore(tmp_path / "status")
    source = FakeGitSource({})
    rest = wiring.RestClients()
    try:
        yield FlinkWorld(source, Ports(source, runtime, rest, store, SystemClock()), store)
    finally:
        rest.close()
