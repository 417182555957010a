"""`gitflink rollback --status cr` on the test bed's real API server (docs/rollback.md): the pin
is written into the custom resource's status with optimistic locking (the resourceVersion read;
a 409 is re-read and the request made again), its spec is left alone, and an agent's save
computed before the request arrived keeps it. The agent's pass honouring a pin is proven on
the fakes and on real Flink (tests/runtime/test_rollback_requests.py,
tests/flink/test_rollback_agent_flink.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from ruamel.yaml import YAML
from support.custom_resources import path_of, raw
from support.gitrepos import run_git
from support.passes import app

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.cli import main
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeployment
from gitflink.model.rollback import Rollback
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
)

pytestmark = pytest.mark.k8s


def manifest(namespace: str, rate: int) -> bytes:
    return app("orders", rate=rate).replace(
        b"namespace: streaming", f"namespace: {namespace}".encode()
    )


def spec(document: bytes) -> dict[str, Any]:
    loaded = FlinkDeployment.model_validate(YAML(typ="safe").load(document))
    found: dict[str, Any] = loaded.to_manifest()["spec"]
    return found


def test_the_pin_is_written_with_optimistic_locking_and_kept_by_a_stale_save(
    flink_crds: list[str],
    control_plane: ControlPlane,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with k8s.ApiClient(control_plane.configuration()) as kube_api:
        requested(control_plane, kube_api, namespace, tmp_path, monkeypatch)


def requested(
    control_plane: ControlPlane,
    kube_api: k8s.ApiClient,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "orders")
    root = tmp_path / "repo"
    root.mkdir()
    run_git(root, "init", "-q")
    revisions = []
    for rate in (400, 800):
        (root / "orders.yaml").write_bytes(manifest(namespace, rate))
        run_git(root, "add", "-A")
        run_git(root, "commit", "-q", "-m", f"rate {rate}")
        revisions.append(run_git(root, "rev-parse", "HEAD"))
    first, second = revisions
    running = spec(manifest(namespace, 800))
    status = ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        job_status=JobStatus(
            job_id="a" * 32,
            state="RUNNING",
            savepoint_history=[Snapshot(path="file:///sp/savepoint-1", revision=first)],
        ),
        reconciliation=ReconciliationStatus(last_applied_spec=running),
        applied_revision=second,
    )
    seen: list[int] = []

    class Racing(KubeRequests):
        """The agent writes between the command's read and its write, once."""

        def replace_status(self, obj: dict[str, Any]) -> dict[str, Any]:
            seen.append(1)
            if len(seen) == 1:
                label = {"metadata": {"labels": {"touched": "yes"}}}
                raw(kube_api, path_of(namespace, name="orders"), method="PATCH", body=label)
            return super().replace_status(obj)

    agent = CrStatusStore(KubeRequests(kube_api, SystemClock()), "an-agent")
    agent.save(rid, status, "orders: deployed")
    assert not agent.refresh()  # nothing asked: a quiet agent stays quiet
    before = raw(kube_api, path_of(namespace, name="orders"))
    kubeconfig = control_plane.kubeconfig(control_plane.admin, control_plane.root / "admin.json")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr("gitflink.adapters.kubernetes_runtime.requests.KubeRequests", Racing)
    argv = [
        "rollback",
        f"{namespace}/orders",
        "--to",
        first,
        "--repo",
        str(root),
        "--status",
        "cr",
        "--yes",
    ]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    assert len(seen) == 2  # the 409 was read again and the request made again
    after = raw(kube_api, path_of(namespace, name="orders"))
    assert after["spec"] == before["spec"]  # what runs is the agent's to change
    assert agent.refresh()  # the agent plans at once, though Git has not moved
    pinned = agent.load(rid)
    assert pinned is not None
    pin = pinned.reconciliation.rollback
    assert isinstance(pin, Rollback) and pin.manual and pin.to_revision == first
    assert pin.restore_point == "file:///sp/savepoint-1" and pin.git_revision == second
    assert pin.spec == spec(manifest(namespace, 400))
    # The agent's pass read the status before the request and saves what it found: kept.
    stale = status.model_copy(deep=True)
    stale.error = "seen by the agent's pass"
    agent.save(rid, stale, "orders: failed")
    kept = agent.load(rid)
    assert kept is not None and kept.error == "seen by the agent's pass"
    assert kept.reconciliation.rollback == pin
    assert agent.refresh()  # not taken up yet: still asked for
    agent.load_all()  # the next pass reads it, and carries it out
    assert not agent.refresh()
