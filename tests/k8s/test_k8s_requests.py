"""The Kubernetes runtime's requests against the real API server through the fault proxy: a
409 is retried once, 429/503 bursts are waited out (Retry-After honoured, on the Clock port),
a 404 on delete is success, and applying what is applied writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import Fault, FaultProxy
from kubernetes.client.exceptions import ApiException
from support.fakes import FakeClock

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests

pytestmark = pytest.mark.k8s


@pytest.fixture
def proxied(control_plane: ControlPlane, fault_proxy: FaultProxy) -> Iterator[k8s.ApiClient]:
    config = control_plane.configuration()
    config.host = fault_proxy.url
    with k8s.ApiClient(config) as api:
        yield api


def config_map(namespace: str, value: str = "v") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "conf", "namespace": namespace},
        "data": {"k": value},
    }


def test_a_conflict_is_retried_once_and_a_second_one_is_raised(
    proxied: k8s.ApiClient, fault_proxy: FaultProxy, namespace: str
) -> None:
    kube = KubeRequests(proxied, FakeClock())
    fault_proxy.inject(Fault("PATCH", r"/configmaps/conf$", status=409))
    assert kube.apply(config_map(namespace))["data"] == {"k": "v"}
    assert fault_proxy.actions("PATCH") == ["answer 409", "forward"]
    fault_proxy.inject(Fault("PATCH", r"/configmaps/conf$", status=409, times=2))
    with pytest.raises(ApiException) as conflict:
        kube.apply(config_map(namespace, "w"))
    assert conflict.value.status == 409


def test_a_503_burst_is_waited_out_honouring_retry_after(
    proxied: k8s.ApiClient, fault_proxy: FaultProxy, namespace: str
) -> None:
    clock = FakeClock()
    kube = KubeRequests(proxied, clock, rng=lambda: 0.0)
    fault_proxy.inject(Fault("PATCH", r"/configmaps/conf$", status=503, retry_after=3, times=2))
    fault_proxy.inject(Fault("PATCH", r"/configmaps/conf$", status=429, times=1))
    assert kube.apply(config_map(namespace))["data"] == {"k": "v"}
    assert fault_proxy.actions("PATCH")[-1] == "forward"
    # Two Retry-After: 3 waits, then the 429's jittered backoff (0.2 * 2**2 * 0.5).
    assert clock.slept == pytest.approx(3 + 3 + 0.4)


def test_a_burst_longer_than_the_attempts_is_raised_with_capped_waits(
    proxied: k8s.ApiClient, fault_proxy: FaultProxy, namespace: str
) -> None:
    clock = FakeClock()
    kube = KubeRequests(proxied, clock, attempts=4, max_delay=1.0, rng=lambda: 1.0)
    fault_proxy.inject(Fault("PATCH", r"/configmaps/conf$", status=429, retry_after=60, times=None))
    with pytest.raises(ApiException) as throttled:
        kube.apply(config_map(namespace))
    assert throttled.value.status == 429
    assert clock.slept == pytest.approx(3 * 1.0)  # Retry-After 60 capped to 1 s, three waits


def test_deleting_what_is_gone_succeeds_and_applying_what_is_applied_writes_nothing(
    kube_api: k8s.ApiClient, namespace: str
) -> None:
    kube = KubeRequests(kube_api, FakeClock())
    assert kube.delete("ConfigMap", namespace, "never-was") is False
    first = kube.apply(config_map(namespace))
    again = kube.apply(config_map(namespace))
    # Server-side apply of an identical configuration is a no-op: no new resourceVersion.
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert first["metadata"]["managedFields"][0]["manager"] == "gitflink"
    assert kube.delete("ConfigMap", namespace, "conf") is True
