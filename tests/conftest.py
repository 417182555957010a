"""Fixtures shared by many test modules, defined once here so that session-scoped ones (the
Kubernetes test bed's control plane) start once per session, not once per importing module."""

from k8s_fixtures import (
    control_plane,
    fault_proxy,
    kube_api,
    kube_config,
    namespace,
    process_kubelet,
)

__all__ = [
    "control_plane",
    "fault_proxy",
    "kube_api",
    "kube_config",
    "namespace",
    "process_kubelet",
]
