"""The fault proxy in front of the real API server injects exactly the faults it is given (per
verb and path, for so many requests), forwards everything else, and logs what it did."""

from __future__ import annotations

import time
from collections.abc import Iterator

import kubernetes.client as k8s
import pytest
import urllib3
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import Fault, FaultProxy
from kubernetes import watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.k8s


@pytest.fixture
def proxied(control_plane: ControlPlane, fault_proxy: FaultProxy) -> Iterator[k8s.CoreV1Api]:
    config = control_plane.configuration()
    config.host = fault_proxy.url
    with k8s.ApiClient(config) as api:
        yield k8s.CoreV1Api(api)


def config_map(name: str) -> k8s.V1ConfigMap:
    meta = k8s.V1ObjectMeta(name=name, labels={"made-by": "test"})
    return k8s.V1ConfigMap(metadata=meta, data={"k": "v"})


def test_a_409_on_put_fails_once_then_the_retry_reaches_the_server(
    proxied: k8s.CoreV1Api, fault_proxy: FaultProxy, namespace: str
) -> None:
    created = proxied.create_namespaced_config_map(namespace, config_map("a"))
    fault_proxy.inject(Fault("PUT", r"/configmaps/a$", status=409))
    created.data = {"k": "changed"}
    with pytest.raises(ApiException) as conflict:
        proxied.replace_namespaced_config_map("a", namespace, created)
    assert (conflict.value.status, conflict.value.reason) == (409, "Conflict")
    assert proxied.replace_namespaced_config_map("a", namespace, created).data == {"k": "changed"}
    assert fault_proxy.actions("PUT") == ["answer 409", "forward"]


def test_a_429_carries_retry_after_which_the_client_honours_and_other_requests_pass(
    proxied: k8s.CoreV1Api, fault_proxy: FaultProxy, namespace: str
) -> None:
    fault_proxy.inject(Fault("GET", r"/configmaps$", status=429, retry_after=1, times=None))
    started = time.monotonic()
    with pytest.raises(ApiException) as throttled:
        proxied.list_namespaced_config_map(namespace)
    # urllib3 retries a GET three times, sleeping Retry-After each time, then gives up.
    assert time.monotonic() - started >= 3.0
    assert throttled.value.status == 429
    assert throttled.value.headers["Retry-After"] == "1"
    proxied.create_namespaced_config_map(namespace, config_map("b"))  # POST: not matched
    assert proxied.list_namespaced_secret(namespace).items == []  # another path
    assert fault_proxy.actions(path="/configmaps") == ["answer 429 Retry-After 1"] * 4 + ["forward"]


def test_a_503_on_create_never_reaches_the_server(
    proxied: k8s.CoreV1Api, fault_proxy: FaultProxy, kube_api: k8s.ApiClient, namespace: str
) -> None:
    fault_proxy.inject(Fault("POST", r"/configmaps$", status=503))
    with pytest.raises(ApiException) as unavailable:
        proxied.create_namespaced_config_map(namespace, config_map("c"))
    assert unavailable.value.status == 503
    with pytest.raises(ApiException) as missing:
        k8s.CoreV1Api(kube_api).read_namespaced_config_map("c", namespace)
    assert missing.value.status == 404


def test_latency_delays_the_request_which_still_succeeds(
    proxied: k8s.CoreV1Api, fault_proxy: FaultProxy, namespace: str
) -> None:
    proxied.create_namespaced_config_map(namespace, config_map("slow"))
    fault_proxy.inject(Fault("GET", r"/configmaps/slow$", delay=1.0))
    started = time.monotonic()
    assert proxied.read_namespaced_config_map("slow", namespace).data == {"k": "v"}
    assert time.monotonic() - started >= 1.0
    assert fault_proxy.actions("GET", "/configmaps") == ["delay 1.0s"]


def test_a_dropped_watch_fails_the_stream_and_resumes_from_the_last_resource_version(
    proxied: k8s.CoreV1Api, fault_proxy: FaultProxy, kube_api: k8s.ApiClient, namespace: str
) -> None:
    direct = k8s.CoreV1Api(kube_api)
    version = direct.list_namespaced_config_map(namespace).metadata.resource_version
    for name in ("w1", "w2", "w3"):
        direct.create_namespaced_config_map(namespace, config_map(name))
    fault_proxy.inject(Fault("WATCH", r"/configmaps$", drop_after_events=1))
    seen: list[k8s.V1ConfigMap] = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for event in watch.Watch().stream(
            proxied.list_namespaced_config_map,
            namespace,
            resource_version=version,
            label_selector="made-by=test",  # not kube-root-ca.crt, published at any moment
            timeout_seconds=10,
        ):
            seen.append(event["object"])
    assert [cm.metadata.name for cm in seen] == ["w1"]
    resumed = []
    for event in watch.Watch().stream(
        proxied.list_namespaced_config_map,
        namespace,
        resource_version=seen[-1].metadata.resource_version,
        label_selector="made-by=test",
        timeout_seconds=10,
    ):
        resumed.append(event["object"].metadata.name)
        if len(resumed) == 2:
            break
    assert resumed == ["w2", "w3"]
    assert fault_proxy.actions("WATCH") == ["drop watch after 1 events", "forward"]
