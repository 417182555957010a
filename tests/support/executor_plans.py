"""Plans and resources for executor tests, written the way the planner builds them."""

from __future__ import annotations

from typing import Any

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import (
    Action,
    DiffClass,
    JobPlan,
    Restore,
    RestoreSource,
    StartCluster,
    Step,
    StopJob,
    SubmitJob,
)
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob, UpgradeMode
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.executor import Execution, execute
from gitflink.runtime.recording import record_execution
from support.fakes import FakeWorld

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
SESSION = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "shared")
SESSION_JOB = ResourceId(Kind.FLINK_SESSION_JOB, "default", "clicks")
JAR = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"


def app(
    *,
    parallelism: int = 2,
    args: tuple[str, ...] = ("--rate", "10"),
    mode: str = "savepoint",
    state: str = "running",
    **job: Any,
) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": APP.name},
            "spec": {
                "flinkVersion": "v1_20",
                "jobManager": {"resource": {"memory": "1g"}},
                "taskManager": {"resource": {"memory": "1g"}},
                "job": {
                    "jarURI": JAR,
                    "entryClass": "gitflink.testjob.CounterJob",
                    "args": list(args),
                    "parallelism": parallelism,
                    "upgradeMode": mode,
                    "state": state,
                    **job,
                },
            },
        }
    )


def session_cluster() -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": SESSION.name},
            "spec": {
                "flinkVersion": "v1_20",
                "jobManager": {"resource": {"memory": "1g"}},
                "taskManager": {"resource": {"memory": "1g"}},
            },
        }
    )


def session_job(parallelism: int = 1) -> FlinkSessionJob:
    return FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": SESSION_JOB.name},
            "spec": {
                "deploymentName": SESSION.name,
                "job": {"jarURI": JAR, "parallelism": parallelism, "upgradeMode": "stateless"},
            },
        }
    )


def plan(
    resource: FlinkDeployment | FlinkSessionJob | None,
    action: Action,
    *steps: Step,
    target: ResourceId = APP,
) -> JobPlan:
    return JobPlan(
        resource=target, action=action, diff=DiffClass.UPGRADE, desired=resource, steps=steps
    )


def deploy_plan(resource: FlinkDeployment) -> JobPlan:
    return plan(resource, Action.DEPLOY, StartCluster(APP), SubmitJob(APP))


def upgrade_plan(resource: FlinkDeployment, mode: UpgradeMode = UpgradeMode.SAVEPOINT) -> JobPlan:
    source = {
        UpgradeMode.SAVEPOINT: Restore(RestoreSource.TAKEN),
        UpgradeMode.LAST_STATE: Restore(RestoreSource.LATEST_CHECKPOINT),
        UpgradeMode.STATELESS: None,
    }[mode]
    return plan(resource, Action.UPGRADE, StopJob(APP, mode), SubmitJob(APP, restore=source))


def run(
    world: FakeWorld, job_plan: JobPlan, revision: str = "rev1", ports: Ports | None = None
) -> Execution:
    """Execute one plan and record its statuses, as a pass does (the write-ahead points during
    the steps, each status once at the end)."""
    ports = ports or world.ports
    status: ResourceStatus | None = ports.status.load(job_plan.resource)
    execution = execute(ports, job_plan, status, revision=revision)
    record_execution(ports, job_plan, execution, revision=revision)
    return execution


def deployed(world: FakeWorld, resource: FlinkDeployment | None = None) -> str:
    """Deploy the app and return its job id."""
    result = run(world, deploy_plan(resource or app()), revision="rev0")
    assert result.ok, result.error
    job_id = world.store.load(APP).job_status.job_id  # type: ignore[union-attr]
    assert job_id is not None
    return job_id
