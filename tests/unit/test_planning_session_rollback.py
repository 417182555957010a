"""Session cluster rollback planning (docs/rollback.md): an upgrade whose cluster does not come
up within the readiness timeout is rolled back to the last stable spec, its session jobs
resubmitted from the savepoints the upgrade's stops took; Git's spec is then kept aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support.planning_builders import Record

from gitflink.core import planning
from gitflink.core.planning import Healing
from gitflink.model.fingerprints import spec_digest
from gitflink.model.observed import Observed
from gitflink.model.plan import (
    Action,
    JobPlan,
    Plan,
    Restore,
    RestoreSource,
    StartCluster,
    StopCluster,
    StopJob,
    SubmitJob,
)
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob, UpgradeMode
from gitflink.model.rollback import Rollback
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ON = {
    "kubernetes.operator.deployment.rollback.enabled": "true",
    "kubernetes.operator.deployment.readiness.timeout": "20 s",
}
SAVEPOINT = "file:///sp/savepoint-1"


def cluster(conf: dict[str, str], **spec: Any) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "shared"},
            "spec": {"flinkVersion": "v1_20", "flinkConfiguration": conf, **spec},
        }
    )


JOB = FlinkSessionJob.model_validate(
    {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "enrich"},
        "spec": {
            "deploymentName": "shared",
            "job": {"jarURI": "local:///e.jar", "parallelism": 1, "upgradeMode": "savepoint"},
        },
    }
)


def spec_of(resource: FlinkDeployment | FlinkSessionJob) -> dict[str, Any]:
    spec: dict[str, Any] = resource.to_manifest()["spec"]
    return spec


def failed_upgrade(stable: FlinkDeployment, bad: FlinkDeployment, ago: float) -> ResourceStatus:
    """The cluster's upgrade started `ago` seconds ago; its start failed (the status says so)."""
    return ResourceStatus(
        lifecycle_state=LifecycleState.UPGRADING,
        reconciliation=ReconciliationStatus(
            last_applied_spec=spec_of(stable),
            last_stable_spec=spec_of(stable),
            last_stable_revision="a" * 40,
        ),
        pending=PendingChange(
            action=Action.UPGRADE,
            revision="b" * 40,
            target_spec=spec_of(bad),
            started_at=NOW - timedelta(seconds=ago),
        ),
        error="Flink process(es) [123] of default/shared exited during start-up\nlog tail",
    )


def stopped_job() -> ResourceStatus:
    """The session job the upgrade stopped with a savepoint before the cluster went down."""
    return ResourceStatus(
        lifecycle_state=LifecycleState.UPGRADING,
        reconciliation=ReconciliationStatus(last_applied_spec=spec_of(JOB)),
        job_status=JobStatus(job_id="j1", upgrade_savepoint_path=SAVEPOINT),
        pending=PendingChange(action=Action.UPGRADE, target_spec=spec_of(JOB), started_at=NOW),
    )


def plan(desired: FlinkDeployment, seen: ResourceStatus, *, running: bool = False) -> Plan:
    observed = {
        desired.id: Observed(seen, cluster_running=running),
        JOB.id: Observed(stopped_job(), cluster_running=running),
    }
    return planning.plan_changes([Record(desired), Record(JOB)], observed, healing=Healing(now=NOW))


def of(found: Plan, resource: FlinkDeployment | FlinkSessionJob) -> JobPlan:
    job = found.for_resource(resource.id)
    assert job is not None
    return job


def test_a_session_cluster_not_up_by_its_readiness_timeout_is_rolled_back_with_its_jobs() -> None:
    stable, bad = cluster(ON), cluster(ON, image="flink:broken")
    found = plan(bad, failed_upgrade(stable, bad, 21))
    rolled, carried = of(found, bad), of(found, JOB)
    assert rolled.action is Action.ROLLBACK, rolled.blocked
    assert rolled.steps == (
        StopJob(JOB.id, UpgradeMode.SAVEPOINT),  # already stopped: its savepoint is recorded
        StopCluster(bad.id),
        StartCluster(bad.id),
        SubmitJob(JOB.id, Restore(RestoreSource.TAKEN)),
    )
    assert isinstance(rolled.desired, FlinkDeployment) and rolled.desired.spec == stable.spec
    assert rolled.applies == spec_of(stable) and rolled.ready_within is None
    record = rolled.rollback
    assert record is not None and record.git_digest == spec_digest(spec_of(bad))
    assert "did not come up within 20s" in record.reason and "exited during" in record.reason
    assert record.to_revision == "a" * 40 and record.restore_point is None
    assert carried.carried_by == bad.id


def test_a_session_cluster_upgrade_within_its_timeout_or_without_rollback_is_retried() -> None:
    stable, bad = cluster(ON), cluster(ON, image="flink:broken")
    retried = of(plan(bad, failed_upgrade(stable, bad, 19)), bad)
    assert retried.action is Action.UPGRADE and retried.ready_within == 20.0
    off = {"kubernetes.operator.deployment.readiness.timeout": "20 s"}
    old, new = cluster(off), cluster(off, image="flink:broken")
    again = of(plan(new, failed_upgrade(old, new, 21)), new)
    assert again.action is Action.UPGRADE  # without rollback: tried again, as before
    up = of(plan(bad, failed_upgrade(stable, bad, 21), running=True), bad)
    assert up.action is not Action.ROLLBACK  # its JobManager answers: not a failed start


def test_a_rolled_back_session_cluster_keeps_git_s_spec_aside_and_is_healed_as_restored() -> None:
    stable, bad = cluster(ON), cluster(ON, image="flink:broken")
    seen = ResourceStatus(
        lifecycle_state=LifecycleState.ROLLED_BACK,
        reconciliation=ReconciliationStatus(
            last_applied_spec=spec_of(stable),
            last_stable_spec=spec_of(stable),
            rollback=Rollback(
                git_digest=spec_digest(spec_of(bad)),
                git_revision="b" * 40,
                reason="the change to revision bbbbbbbb failed: its cluster did not come up",
                to_revision="a" * 40,
                spec=spec_of(stable),
            ),
        ),
    )
    kept = of(plan(bad, seen, running=True), bad)
    assert kept.action is Action.NONE and "not tried again" in " ".join(kept.notes)
    lost = of(plan(bad, seen), bad)
    assert lost.action is Action.RECOVER and lost.steps == (StartCluster(bad.id),)
    assert isinstance(lost.desired, FlinkDeployment) and lost.desired.spec == stable.spec
    fixed = cluster(ON, image="flink:fixed")
    assert of(plan(fixed, seen, running=True), fixed).action is Action.UPGRADE
