"""The Kubernetes runtime through the fault proxy: a cluster still comes up when the API server
answers a burst of 503s (Retry-After) and a conflict on the way, and each fault was seen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import Fault, FaultProxy
from k8s_testbed.kubelet import ProcessKubelet
from support.sync_flink_support import app_manifest

from gitflink import wiring
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeployment
from gitflink.settings import Settings

pytestmark = [pytest.mark.k8s, pytest.mark.flink]


def test_a_cluster_comes_up_through_a_503_burst_and_a_conflict(
    control_plane: ControlPlane,
    fault_proxy: FaultProxy,
    namespace: str,
    process_kubelet: ProcessKubelet,
    tmp_path: Path,
) -> None:
    config = control_plane.configuration()
    config.host = fault_proxy.url
    settings = dataclasses.replace(
        Settings.from_env(), data_dir=tmp_path, flink_rest_url="http://{pod_ip}:8081"
    )
    doc = app_manifest("v1_20", "burst", namespace=namespace)
    del doc["spec"]["job"]
    doc["spec"]["image"] = "flink:1.20"
    spec = FlinkDeployment.model_validate(doc).spec
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "burst")
    fault_proxy.inject(Fault("PATCH", r"/deployments/burst$", status=503, retry_after=1, times=3))
    fault_proxy.inject(Fault("PATCH", r"/configmaps/", status=409))
    with k8s.ApiClient(config) as api:
        runtime = wiring.kubernetes_runtime_for(api, settings, SystemClock())
        handle = runtime.ensure_cluster(rid, spec)
        assert handle.rest_url.endswith(":8081")
        assert fault_proxy.actions("PATCH", "/deployments/burst$") == [
            "answer 503 Retry-After 1", "answer 503 Retry-After 1", "answer 503 Retry-After 1",
            "forward",
        ]  # fmt: skip
        assert fault_proxy.actions("PATCH", "/configmaps/") == ["answer 409", "forward"]
        runtime.delete_cluster(rid)
        assert runtime.find_cluster(rid) is None
