"""CR status mode on the test bed's real API server, with the CRDs from schemas/: the custom
resource gitflink applies and the status it writes (the operator's shape, kubectl's columns),
custom resources it does not manage left alone, conflicts and 503s survived, Events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import kubernetes.client as k8s
import pytest
from k8s_fixtures import cr_status_store
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import Fault, FaultProxy
from support.custom_resources import TABLE, path_of, raw

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.status_cr.events import KubernetesEvents
from gitflink.adapters.system_clock import SystemClock
from gitflink.cli import main
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.notifications import EventType, ResourceEvent, StatusChange
from gitflink.model.status import (
    Condition,
    ConditionStatus,
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
    SnapshotKind,
)

pytestmark = pytest.mark.k8s
SECRET = "hunter2-canary"
SPEC: dict[str, Any] = {
    "image": "flink:1.20",
    "flinkVersion": "v1_20",
    "flinkConfiguration": {"s3.secret-key": SECRET, "taskmanager.numberOfTaskSlots": "2"},
    "job": {"jarURI": "local:///opt/flink/job.jar", "parallelism": 2, "upgradeMode": "savepoint"},
}
AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(
    flink_crds: list[str], kube_config: k8s.Configuration, namespace: str
) -> Iterator[CrStatusStore]:
    yield from cr_status_store(kube_config, namespace)


def stable(revision: str, *, generation: int = 1) -> ResourceStatus:
    return ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        job_status=JobStatus(
            job_id="a" * 32,
            state="RUNNING",
            generation=generation,
            last_savepoint=Snapshot(path="file:///sp/savepoint-1", taken_at=AT),
        ),
        reconciliation=ReconciliationStatus(
            last_applied_spec=SPEC, last_stable_spec=SPEC, reconciled_at=AT
        ),
        conditions=[Condition(type="Ready", status=ConditionStatus.TRUE, reason="deploy")],
        applied_revision=revision,
        observed_revision=revision,
    )


def test_the_custom_resource_holds_the_git_spec_and_the_operators_status(
    store: CrStatusStore, kube_api: k8s.ApiClient, namespace: str
) -> None:
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "orders")
    store.save(rid, stable("f" * 40), "orders: deployed")
    obj = raw(kube_api, path_of(namespace, name="orders"))
    assert SECRET not in json.dumps(obj)  # fingerprinted in spec and status alike
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "gitflink"
    assert obj["metadata"]["annotations"]["gitflink.io/revision"] == "f" * 40
    assert obj["spec"]["job"] == SPEC["job"]
    managers = {
        (m["manager"], m["operation"], m.get("subresource"))
        for m in obj["metadata"]["managedFields"]
    }
    assert managers == {("gitflink", "Apply", None), ("gitflink", "Update", "status")}
    status = obj["status"]
    assert status["lifecycleState"] == "STABLE"
    assert status["jobStatus"]["jobId"] == "a" * 32
    assert status["jobStatus"]["state"] == "RUNNING"
    saved = status["jobStatus"]["savepointInfo"]["lastSavepoint"]
    assert saved == {
        "location": "file:///sp/savepoint-1",
        "timeStamp": int(AT.timestamp() * 1000),
        "triggerType": "UNKNOWN",
    }
    reconciled = json.loads(status["reconciliationStatus"]["lastReconciledSpec"])
    assert reconciled["spec"]["job"] == SPEC["job"]
    assert reconciled["resource_metadata"]["apiVersion"] == "flink.apache.org/v1beta1"
    assert (
        json.loads(status["reconciliationStatus"]["lastStableSpec"])["spec"]["job"] == SPEC["job"]
    )
    assert status["reconciliationStatus"]["state"] == "DEPLOYED"
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("Ready", "True"),
        ("Running", "True"),
    ]
    # What gitflink reads back is its own record, secrets as fingerprints.
    loaded = store.load(rid)
    assert loaded is not None and loaded.job_status == stable("f" * 40).job_status
    assert loaded.reconciliation.last_applied_spec is not None
    assert loaded.reconciliation.last_applied_spec["job"] == SPEC["job"]


def test_kubectl_shows_job_status_and_lifecycle_state_columns(
    store: CrStatusStore, kube_api: k8s.ApiClient, namespace: str
) -> None:
    store.save(ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "orders"), stable("f" * 40), "m")
    upgrading = stable("e" * 40)
    upgrading.lifecycle_state = LifecycleState.UPGRADING
    upgrading.job_status.state = "CANCELLING"
    upgrading.pending = PendingChange(action="upgrade", revision="e" * 40, target_spec=SPEC)
    store.save(ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "views"), upgrading, "m")
    table = raw(kube_api, path_of(namespace), accept=TABLE)
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:3] == ["Name", "Job Status", "Lifecycle State"]
    rows = sorted(row["cells"][:3] for row in table["rows"])
    assert rows == [["orders", "RUNNING", "STABLE"], ["views", "CANCELLING", "UPGRADING"]]


def test_a_custom_resource_without_the_management_label_is_never_touched(
    store: CrStatusStore, kube_api: k8s.ApiClient, namespace: str
) -> None:
    foreign = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "theirs", "namespace": namespace, "labels": {"team": "other"}},
        "spec": SPEC,
    }
    kube = KubeRequests(kube_api, SystemClock())
    before = kube.apply(foreign)
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "theirs")
    with pytest.raises(StatusWriteError, match="not managed by this gitflink"):
        store.save(rid, stable("f" * 40), "m")
    with pytest.raises(StatusWriteError, match="not managed by this gitflink"):
        store.delete(rid, "m")
    assert store.load(rid) is None
    assert rid not in store.load_all()
    after = kube.get("FlinkDeployment", namespace, "theirs")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert "status" not in after
    # Another gitflink's (another source's) custom resource is not this one's either.
    other = CrStatusStore(KubeRequests(kube_api, SystemClock()), "another-source")
    other.save(ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "elsewhere"), stable("e" * 40), "m")
    elsewhere = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "elsewhere")
    with pytest.raises(StatusWriteError, match="not managed by this gitflink"):
        store.save(elsewhere, stable("f" * 40), "m")
    assert store.load(elsewhere) is None
    assert elsewhere not in store.load_all()
    assert elsewhere in other.load_all()
    reader = CrStatusStore(KubeRequests(kube_api, SystemClock()), None)  # `gitflink status`
    assert {elsewhere, ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "theirs")} & set(
        reader.load_all()
    ) == {elsewhere}
    with pytest.raises(StatusWriteError, match="writes none"):
        reader.save(elsewhere, stable("f" * 40), "m")


def test_a_409_storm_and_a_503_burst_lose_no_status_update(
    flink_crds: list[str],
    control_plane: ControlPlane,
    fault_proxy: FaultProxy,
    kube_config: k8s.Configuration,
    namespace: str,
) -> None:
    config = control_plane.configuration()
    config.host = fault_proxy.url
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "stormy")
    status_path = r"/flinkdeployments/stormy/status$"
    for store in cr_status_store(config, namespace):
        fault_proxy.inject(Fault("PUT", status_path, status=409, times=6))
        fault_proxy.inject(
            Fault("PATCH", r"/flinkdeployments/stormy$", status=503, times=3, retry_after=1)
        )
        for generation in range(1, 4):
            store.save(rid, stable("f" * 40, generation=generation), f"generation {generation}")
            if generation == 1:
                fault_proxy.inject(Fault("PUT", status_path, status=503, times=3, retry_after=1))
        assert store.conflicts == 6
        assert fault_proxy.actions("PUT", status_path).count("answer 409") == 6
        assert fault_proxy.actions("PUT", status_path).count("answer 503 Retry-After 1") == 3
        assert (
            fault_proxy.actions("PATCH", r"/flinkdeployments/stormy$")[:3]
            == ["answer 503 Retry-After 1"] * 3
        )
    for fresh in cr_status_store(kube_config, namespace):
        loaded = fresh.load(rid)
        assert loaded is not None and loaded.job_status.generation == 3


def test_a_status_written_over_a_concurrent_change_is_reread_and_written_again(
    flink_crds: list[str], kube_api: k8s.ApiClient, namespace: str
) -> None:
    """A real conflict: someone changes the object between gitflink's read and its write."""
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "raced")

    class Racing(KubeRequests):
        races = 2

        def replace_status(self, obj: dict[str, Any]) -> dict[str, Any]:
            if self.races:
                self.races -= 1
                label = {"metadata": {"labels": {"touched": str(self.races)}}}
                raw(kube_api, path_of(namespace, name="raced"), method="PATCH", body=label)
            return super().replace_status(obj)

    store = CrStatusStore(Racing(kube_api, SystemClock()), namespace)
    store.save(rid, stable("f" * 40, generation=7), "m")
    assert store.conflicts == 2
    loaded = store.load(rid)
    assert loaded is not None and loaded.job_status.generation == 7


def test_events_on_the_custom_resource_tell_changes_and_hide_secrets(
    store: CrStatusStore, kube_api: k8s.ApiClient, namespace: str
) -> None:
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "orders")
    store.save(rid, stable("f" * 40), "m")
    events = KubernetesEvents(KubeRequests(kube_api, SystemClock()))
    message = f"upgrade: restored from s3://admin:{SECRET}@bucket/sp-1 -Ds3.password={SECRET}"
    events.on_event(ResourceEvent(rid, EventType.NORMAL, "Upgrade", message, "f" * 40, AT))
    before = stable("f" * 40)
    before.lifecycle_state = LifecycleState.UPGRADING
    events.on_status_change(StatusChange(rid, before, stable("f" * 40), "f" * 40, AT))
    events.on_status_change(StatusChange(rid, stable("f" * 40), stable("f" * 40), "f" * 40, AT))
    # A resource without its custom resource gets none.
    gone = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "gone")
    events.on_event(ResourceEvent(gone, EventType.WARNING, "Failed", "x", None, AT))
    found = k8s.CoreV1Api(kube_api).list_namespaced_event(namespace).items
    assert SECRET not in json.dumps([e.message for e in found])
    uid = store_uid(kube_api, namespace, "orders")
    seen = sorted((e.reason, e.type, e.involved_object.kind, e.involved_object.uid) for e in found)
    assert seen == [
        ("StatusChanged", "Normal", "FlinkDeployment", uid),
        ("Upgrade", "Normal", "FlinkDeployment", uid),
    ]
    (changed,) = [e for e in found if e.reason == "StatusChanged"]
    assert changed.message == "lifecycle state UPGRADING -> STABLE, job RUNNING (revision fffffff)"


def store_uid(api: k8s.ApiClient, namespace: str, name: str) -> str:
    uid: str = raw(api, path_of(namespace, name=name))["metadata"]["uid"]
    return uid


def test_a_snapshot_gets_the_operators_snapshot_status(
    store: CrStatusStore, kube_api: k8s.ApiClient, namespace: str
) -> None:
    rid = ResourceId(Kind.FLINK_STATE_SNAPSHOT, namespace, "nightly")
    spec = {"jobReference": {"kind": "FlinkDeployment", "name": "orders"}, "savepoint": {}}
    taken = Snapshot(path="file:///sp/savepoint-9", kind=SnapshotKind.SAVEPOINT, taken_at=AT)
    status = ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        job_status=JobStatus(last_savepoint=taken),
        reconciliation=ReconciliationStatus(last_applied_spec=spec),
    )
    store.save(rid, status, "nightly: savepoint taken")
    obj = raw(kube_api, path_of(namespace, "flinkstatesnapshots", "nightly"))
    assert {k: v for k, v in obj["status"].items() if k != "gitflink"} == {
        "state": "COMPLETED",
        "path": "file:///sp/savepoint-9",
        "failures": 0,
        "resultTimestamp": AT.isoformat(),
    }
    table = raw(kube_api, path_of(namespace, "flinkstatesnapshots"), accept=TABLE)
    (row,) = table["rows"]
    assert row["cells"][1:4] == ["file:///sp/savepoint-9", AT.isoformat(), "COMPLETED"]
    assert store.load(rid) == status


def test_gitflink_status_reads_the_custom_resources_with_status_cr(
    flink_crds: list[str],
    control_plane: ControlPlane,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Saved by an agent of some source: `gitflink status` shows every gitflink's.
    with k8s.ApiClient(control_plane.configuration()) as api:
        agent = CrStatusStore(KubeRequests(api, SystemClock()), "an-agent")
        agent.save(ResourceId(Kind.FLINK_DEPLOYMENT, namespace, "orders"), stable("f" * 40), "m")
    kubeconfig = control_plane.kubeconfig(control_plane.admin, control_plane.root / "admin.json")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    capsys.readouterr()
    assert main(["status", "--status", "cr", "-o", "json", f"{namespace}/orders"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert SECRET not in json.dumps(shown)
    assert "STABLE" in json.dumps(shown) and "RUNNING" in json.dumps(shown)
