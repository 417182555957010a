"""Fixtures for tests against the real Kubernetes test bed (tests/k8s_testbed/).

`control_plane` starts etcd, kube-apiserver and kube-controller-manager once per session;
`kube_config` is an admin kubernetes.client.Configuration; `namespace` is a fresh one per test;
`process_kubelet` runs that namespace's pods; `fault_proxy` sits in front of the API server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import FaultProxy
from k8s_testbed.kubelet import ProcessKubelet

from gitflink.settings import Settings


def _report(config: pytest.Config, line: str) -> None:
    """A line on the terminal even while pytest captures the fixture's output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write("\n")
            reporter.write_line(line)


@pytest.fixture(scope="session")
def control_plane(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    plane = ControlPlane(tmp_path_factory.mktemp("k8s-testbed"))
    try:
        plane.start()
        _report(
            request.config,
            f"k8s test bed: etcd, kube-apiserver, kube-controller-manager ready at {plane.url} "
            f"in {plane.startup_seconds} s",
        )
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def kube_config(control_plane: ControlPlane) -> k8s.Configuration:
    return control_plane.configuration()


@pytest.fixture
def kube_api(kube_config: k8s.Configuration) -> Iterator[k8s.ApiClient]:
    with k8s.ApiClient(kube_config) as api:
        yield api


@pytest.fixture
def namespace(kube_api: k8s.ApiClient) -> Iterator[str]:
    """A namespace of its own for each test, deleted (with everything in it) afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = k8s.CoreV1Api(kube_api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)


@pytest.fixture
def process_kubelet(
    kube_config: k8s.Configuration, namespace: str, tmp_path: Path
) -> Iterator[ProcessKubelet]:
    """A node that runs the test namespace's pods as local Flink processes."""
    kubelet = ProcessKubelet(
        kube_config, tmp_path / "node", Settings.from_env().cache_dir, namespace
    )
    kubelet.start()
    try:
        yield kubelet
    finally:
        kubelet.stop()


@pytest.fixture
def fault_proxy(control_plane: ControlPlane) -> Iterator[FaultProxy]:
    proxy = FaultProxy(control_plane.url, str(control_plane.ca_cert)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
