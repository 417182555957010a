"""A plan depends on its inputs only, never on the order files were read or statuses listed:
rules return their steps, risks and notes instead of appending to shared state."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.planning_builders import Record

from gitflink.core import planning
from gitflink.model.ids import ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import AnyResource, FlinkDeployment, FlinkSessionJob
from gitflink.model.status import JobStatus, ReconciliationStatus, ResourceStatus


def _deployment(
    name: str, job: dict[str, Any] | None, image: str = "flink:1.20"
) -> FlinkDeployment:
    spec: dict[str, Any] = {"image": image, "flinkVersion": "v1_20"}
    if job is not None:
        spec["job"] = job
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def _session_job(name: str, mode: str, parallelism: int = 1) -> FlinkSessionJob:
    return FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": name},
            "spec": {
                "deploymentName": "shared",
                "job": {
                    "jarURI": "local:///j.jar",
                    "parallelism": parallelism,
                    "upgradeMode": mode,
                },
            },
        }
    )


JOB = {"jarURI": "local:///j.jar", "parallelism": 2, "upgradeMode": "savepoint"}
BEFORE: list[AnyResource] = [
    _deployment("shared", None),
    _session_job("a-stateful", "savepoint"),
    _session_job("b-stateless", "stateless"),
    _session_job("c-changed", "last-state"),
    _deployment("orders", JOB),
    _deployment("gone", JOB),
]
AFTER: list[AnyResource] = [
    _deployment("shared", None, image="flink:1.20.1"),  # restarts the cluster and its jobs
    _session_job("a-stateful", "savepoint"),
    _session_job("b-stateless", "stateless"),
    _session_job("c-changed", "last-state", parallelism=2),
    _deployment("orders", {**JOB, "args": ["--v2"]}),
]


def _observed(resource: AnyResource, index: int) -> Observed:
    spec = resource.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    job_id = f"{index:032x}"
    status = ResourceStatus(
        reconciliation=ReconciliationStatus(last_applied_spec=spec),
        job_status=JobStatus(job_id=job_id, state="RUNNING", generation=1),
    )
    live = LiveJob(job_id, "RUNNING", all_vertices_running=True, latest_checkpoint="file:///c/1")
    return Observed(status, cluster_running=True, job=live, flink_version="1.20.5")


OBSERVED: dict[ResourceId, Observed] = {
    resource.id: _observed(resource, i) for i, resource in enumerate(BEFORE)
}


@settings(max_examples=60, deadline=None)
@given(
    desired=st.permutations(AFTER),
    statuses=st.permutations(sorted(OBSERVED)),
)
def test_the_same_inputs_in_any_order_give_the_same_plan(
    desired: list[AnyResource], statuses: list[ResourceId]
) -> None:
    reference = planning.plan_changes([Record(r) for r in AFTER], OBSERVED)
    observed = {rid: OBSERVED[rid] for rid in statuses}
    plan = planning.plan_changes([Record(r) for r in desired], observed)
    assert plan == reference
    carried = [job for job in plan.jobs if job.carried_by is not None]
    assert {job.resource.name for job in carried} == {"a-stateful", "b-stateless", "c-changed"}
    for job in carried:  # no note of a plan that was discarded for the cluster's
        assert job.notes == ("stopped and resubmitted by the default/shared session cluster plan",)
