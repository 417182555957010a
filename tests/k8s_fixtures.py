"""Fixtures for tests against the real Kubernetes test bed (tests/k8s_testbed/).

`control_plane` starts etcd, kube-apiserver and kube-controller-manager once per session;
`kube_config` is an admin kubernetes.client.Configuration; `namespace` is a fresh one per test;
`process_kubelet` runs that namespace's pods; `fault_proxy` sits in front of the API server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import FaultProxy
from k8s_testbed.kubelet import ProcessKubelet
from kubernetes.client.exceptions import ApiException
from ruamel.yaml import YAML

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.settings import Settings

CRD_DIR = Path(__file__).resolve().parents[1] / "schemas" / "crds"


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


@pytest.fixture(scope="session")
def flink_crds(kube_config: k8s.Configuration) -> list[str]:
    """The CRDs from schemas/crds/ installed (server-side apply) and Established, once per
    session: CR status mode writes their custom resources."""
    names = []
    with k8s.ApiClient(kube_config) as api:
        for path in sorted(CRD_DIR.glob("*.yaml")):
            crd = YAML(typ="safe").load(path.read_text())
            name = crd["metadata"]["name"]
            api.call_api(
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
                "PATCH",
                query_params=[("fieldManager", "gitflink-tests"), ("force", "true")],
                header_params={"Content-Type": "application/apply-patch+yaml"},
                body=crd,
                auth_settings=["BearerToken"],
                _preload_content=False,
            )
            names.append(name)
        extensions = k8s.ApiextensionsV1Api(api)
        deadline = time.monotonic() + 30
        for name in names:
            while not _established(extensions.read_custom_resource_definition(name)):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"CRD {name} not Established in 30 s")
                time.sleep(0.1)
    return names


def _established(crd: k8s.V1CustomResourceDefinition) -> bool:
    conditions = (crd.status.conditions if crd.status else None) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def cr_status_store(config: k8s.Configuration, instance: str) -> Iterator[CrStatusStore]:
    """A CR status store on the test bed (the CRDs installed), with its own API client;
    `instance` keeps it apart from other tests' stores on the shared API server."""
    with k8s.ApiClient(config) as api:
        yield CrStatusStore(KubeRequests(api, SystemClock()), instance)


def ensure_namespace(config: k8s.Configuration, name: str) -> None:
    with k8s.ApiClient(config) as api:
        try:
            k8s.CoreV1Api(api).create_namespace(
                k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name))
            )
        except ApiException as error:
            if error.status != 409:
                raise
