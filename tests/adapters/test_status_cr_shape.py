"""CR status mode's shapes (pure): the operator's snapshot states, the spec and revision a
status is about, and `.status.gitflink` as the only part read back. The store itself runs on the
test bed (tests/k8s/test_k8s_status_cr.py and the status store contract)."""

from __future__ import annotations

import json

import pytest

from gitflink.adapters.status_cr.shape import (
    cr_status,
    custom_resource,
    revision_of,
    spec_of,
    status_of,
)
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import (
    JobStatus,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
)

APPLIED = {"job": {"jarURI": "local:///a.jar", "parallelism": 1}}
TARGET = {"job": {"jarURI": "local:///a.jar", "parallelism": 2}}


def with_spec(**fields: object) -> ResourceStatus:
    status = ResourceStatus(reconciliation=ReconciliationStatus(last_applied_spec=APPLIED))
    return status.model_copy(update=fields)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (with_spec(), "TRIGGER_PENDING"),
        (with_spec(pending=PendingChange(action="deploy", target_spec=APPLIED)), "IN_PROGRESS"),
        (with_spec(job_status=JobStatus(last_savepoint=Snapshot(path="file:///sp"))), "COMPLETED"),
        (with_spec(error="the job is gone"), "FAILED"),
    ],
)
def test_a_snapshot_status_says_the_operators_state(status: ResourceStatus, state: str) -> None:
    shaped = cr_status(Kind.FLINK_STATE_SNAPSHOT, status)
    assert shaped["state"] == state
    assert shaped["failures"] == (1 if state == "FAILED" else 0)


def test_the_spec_and_revision_are_the_change_in_flight_else_the_applied_one() -> None:
    applied = with_spec(applied_revision="a" * 40)
    assert (spec_of(applied), revision_of(applied)) == (APPLIED, "a" * 40)
    pending = PendingChange(action="upgrade", revision="b" * 40, target_spec=TARGET)
    upgrading = with_spec(applied_revision="a" * 40, pending=pending)
    assert (spec_of(upgrading), revision_of(upgrading)) == (TARGET, "b" * 40)
    assert spec_of(ResourceStatus()) is None
    deleting = with_spec(pending=PendingChange(action="delete", target_spec={}))
    assert spec_of(deleting) == APPLIED  # a delete targets no spec: the applied one stays


def test_secrets_are_fingerprints_everywhere_and_the_record_reads_back() -> None:
    secret = {"flinkConfiguration": {"s3.secret-key": "hunter2"}, **APPLIED}
    status = with_spec(reconciliation=ReconciliationStatus(last_applied_spec=secret))
    shaped = cr_status(Kind.FLINK_DEPLOYMENT, status)
    obj = custom_resource(ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "a"), secret, "c" * 40, "i")
    assert "hunter2" not in json.dumps(shaped) + json.dumps(obj)
    spec = json.loads(shaped["reconciliationStatus"]["lastReconciledSpec"])["spec"]
    assert spec["flinkConfiguration"]["s3.secret-key"].startswith("redacted:")
    loaded = status_of({"status": shaped})
    assert loaded is not None and loaded.reconciliation.last_applied_spec == spec
    assert status_of({"status": {"lifecycleState": "STABLE"}}) is None  # not written by gitflink


class NamespacedKube:
    """The API server as namespaced Roles see it: listing across namespaces is refused."""

    def __init__(self, objects: list[dict[str, object]]) -> None:
        self.objects, self.listed = objects, []  # type: list[dict[str, object]], list[str]

    def list_all(self, kind: str, selector: str) -> list[dict[str, object]]:
        raise AssertionError("a cluster-wide list: forbidden under the chart's namespaced Roles")

    def list_objects(
        self, kind: str, namespace: str, selector: str = ""
    ) -> list[dict[str, object]]:
        self.listed.append(f"{kind}/{namespace}")
        return [
            o
            for o in self.objects
            if o["kind"] == kind and o["metadata"]["namespace"] == namespace  # type: ignore[index]
        ]


def test_a_store_limited_to_namespaces_lists_only_there_and_loads_what_it_finds() -> None:
    from gitflink.adapters.status_cr import CrStatusStore

    def stored(namespace: str, name: str) -> dict[str, object]:
        resource = ResourceId(Kind.FLINK_DEPLOYMENT, namespace, name)
        obj = custom_resource(resource, APPLIED, "a" * 40, "me")
        return {**obj, "status": cr_status(resource.kind, with_spec())}

    kube = NamespacedKube([stored("team-a", "one"), stored("team-b", "two"), stored("x", "no")])
    store = CrStatusStore(kube, "me", namespaces=("team-a", "team-b"))  # type: ignore[arg-type]
    loaded = store.load_all()
    assert set(loaded) == {
        ResourceId(Kind.FLINK_DEPLOYMENT, "team-a", "one"),
        ResourceId(Kind.FLINK_DEPLOYMENT, "team-b", "two"),
    }
    assert f"{Kind.FLINK_SESSION_JOB.value}/team-b" in kube.listed
