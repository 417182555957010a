"""Test rooms mirror the code: unit (pure core and model), runtime (a pass on the fakes),
adapters (each adapter against the real thing it wraps), cli (commands as a user runs them),
flink (real Flink JVMs), k8s (the Kubernetes test bed: a real API server built from Go modules).
Shared fakes and builders live in the `support` package; the test bed in `k8s_testbed`.

The test bed's fixtures are registered here, once, so that its session-scoped control plane
starts once per session, not once per importing module."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_fixtures import (
    control_plane,
    fault_proxy,
    flink_crds,
    kube_api,
    kube_config,
    namespace,
    process_kubelet,
)

__all__ = [
    "control_plane",
    "fault_proxy",
    "flink_crds",
    "kube_api",
    "kube_config",
    "namespace",
    "process_kubelet",
]
ROOMS = ("unit", "runtime", "adapters", "cli", "flink", "k8s")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/flink/ runs real Flink, every one in tests/k8s/ the test bed: marked
    so `make test-fast` leaves them out.

    Grouped for `--dist loadgroup` (make test runs them on two workers): every test bed test on
    one worker, which starts one API server, and first, as the longest group; a module of real
    Flink tests stays on one worker, with its shared cluster."""
    root = Path(__file__).parent
    for item in items:
        room = Path(item.path).relative_to(root).parts[0]
        if room == "flink":
            item.add_marker(pytest.mark.flink)
        elif room == "k8s":
            item.add_marker(pytest.mark.k8s)
        if item.get_closest_marker("k8s") is not None:
            item.add_marker(pytest.mark.xdist_group("k8s"))
        elif item.get_closest_marker("flink") is not None:
            item.add_marker(pytest.mark.xdist_group(Path(item.path).stem))
    items.sort(key=lambda item: item.get_closest_marker("k8s") is None)  # stable
