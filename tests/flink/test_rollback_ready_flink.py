"""Rollback on real Flink, the cases docs/rollback.md adds to tests/flink/test_rollback_flink.py:
an upgrade not ready within its readiness timeout (its job, or its cluster) is rolled back by the
same pass, and a session cluster whose upgrade never comes up is rolled back with its session
jobs. One Flink version."""

from __future__ import annotations

import time

import pytest
from support.sync_flink_support import (
    JAR,
    FlinkWorld,
    app_manifest,
    counter_gauge,
    wait_counting,
    yaml_bytes,
)
from test_recovery_flink import FAILING, plan_of
from test_rollback_flink import ROLLBACK, VERSION, WINDOW, sync, world

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.model.status import LifecycleState
from gitflink.runtime.context import same_path

__all__ = ["world"]  # the fixture, imported for pytest to find
pytestmark = [pytest.mark.flink, pytest.mark.slow]
# One TaskManager with one slot, and the default scheduler: a job asking for two slots waits
# for them (Flink's slot request timeout is 5 min), its tasks never all running.
ONE_SLOT = {**ROLLBACK, "jobmanager.scheduler": "default", "taskmanager.numberOfTaskSlots": "1"}
READY_IN_15S = {"kubernetes.operator.deployment.readiness.timeout": "15 s"}
NO_KEYSTORE = {"security.ssl.internal.enabled": "true"}  # the JobManager exits at start-up


def test_an_upgrade_not_ready_within_its_readiness_timeout_is_rolled_back_by_the_same_pass(
    world: FlinkWorld,
) -> None:
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "slow")

    def commit(parallelism: int, **conf: str) -> None:
        doc = app_manifest(VERSION, "slow", args=FAILING["args"], parallelism=parallelism)
        doc["spec"]["flinkConfiguration"].update({**FAILING["conf"], **ONE_SLOT, **conf})
        doc["spec"]["taskManager"]["replicas"] = 1
        world.commit({"slow.yaml": yaml_bytes(doc)})

    commit(1)
    assert sync(world).ok
    first = world.status(rid).job_status.job_id
    assert first is not None
    wait_counting(world.api(rid), first, 200)
    time.sleep(WINDOW)
    assert sync(world).ok and world.status(rid).lifecycle_state is LifecycleState.STABLE
    commit(2, **READY_IN_15S)  # two slots wanted, one there: never ready
    rolled = sync(world)
    plan = plan_of(rolled, rid)
    assert plan.action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    record = status.reconciliation.rollback
    assert record is not None and "within 15s" in record.reason, record
    assert record.restore_point is not None
    [job] = world.running_jobs(rid)
    api = world.api(rid)
    assert same_path(api.checkpoints(job).restored, record.restore_point)
    assert {v.parallelism for v in api.job_details(job).vertices} == {1}
    wait_counting(api, job, 1)
    start = counter_gauge(api, job, "startCount")
    assert start is not None and start > 1, "the counter started again from zero"

    # The next commit turns on internal SSL without a keystore: the savepoint stop runs, then
    # the JobManager exits at every start until the deadline, and the same pass rolls back.
    commit(1, **READY_IN_15S, **NO_KEYSTORE)
    rolled = sync(world)
    assert plan_of(rolled, rid).action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    again = status.reconciliation.rollback
    assert again is not None and "did not come up within 15s" in again.reason, again
    assert again.restore_point is not None and again.restore_point != record.restore_point
    [back] = world.running_jobs(rid)
    api = world.api(rid)  # the cluster was started again: another REST port
    assert same_path(api.checkpoints(back).restored, again.restore_point)
    wait_counting(api, back, 1)


def test_a_session_cluster_whose_upgrade_never_comes_up_is_rolled_back_with_its_session_job(
    world: FlinkWorld,
) -> None:
    """The upgrade turns on internal SSL without a keystore: the JobManager exits at start-up.
    The session job was stopped with a savepoint first; the rollback restarts the cluster with
    the stable spec and resubmits the job from that savepoint."""
    cluster = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "shared")
    views = ResourceId(Kind.FLINK_SESSION_JOB, "it", "views")
    session = app_manifest(VERSION, "shared")
    del session["spec"]["job"]
    conf = session["spec"]["flinkConfiguration"]
    conf.update({**ROLLBACK, "kubernetes.operator.deployment.readiness.timeout": "15 s"})
    job = {"jarURI": JAR, "entryClass": "gitflink.testjob.CounterJob", "parallelism": 1}
    job |= {"args": FAILING["args"], "upgradeMode": "savepoint"}
    views_doc = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "views", "namespace": "it"},
        "spec": {"deploymentName": "shared", "job": job},
    }

    def commit() -> None:
        world.commit({"shared.yaml": yaml_bytes(session), "views.yaml": yaml_bytes(views_doc)})

    commit()
    assert sync(world).ok
    first = world.status(views).job_status.job_id
    assert first is not None
    wait_counting(world.api(cluster), first, 200)
    time.sleep(WINDOW)
    assert sync(world).ok
    stable = world.status(cluster)
    assert stable.lifecycle_state is LifecycleState.STABLE, stable  # its REST answered
    assert stable.reconciliation.last_stable_spec == stable.reconciliation.last_applied_spec
    conf.update(NO_KEYSTORE)
    commit()
    rolled = sync(world)
    plan = plan_of(rolled, cluster)
    assert plan.action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(cluster)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    record = status.reconciliation.rollback
    assert record is not None and "did not come up within 15s" in record.reason, record
    assert "exited during start-up" in record.reason  # the JobManager really failed
    assert status.reconciliation.last_applied_spec == stable.reconciliation.last_stable_spec
    savepoint = world.status(views).job_status.last_savepoint
    assert savepoint is not None and savepoint.job_id == first
    [resubmitted] = world.running_jobs(cluster)
    api = world.api(cluster)
    assert same_path(api.checkpoints(resubmitted).restored, savepoint.path)
    wait_counting(api, resubmitted, 1)
    start = counter_gauge(api, resubmitted, "startCount")
    assert start is not None and start > 1, "the session job started again from zero"
    again = sync(world)  # Git's spec is not tried again
    assert plan_of(again, cluster).action is Action.NONE and again.ok, again.executions
    assert world.running_jobs(cluster) == [resubmitted]
