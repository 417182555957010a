"""Rollback on real Flink, the cases docs/rollback.md adds to tests/flink/test_rollback_flink.py:
an upgrade not ready within its readiness timeout is rolled back by the same pass, and a session
cluster whose upgrade never comes up is rolled back with its session jobs. One Flink version."""

from __future__ import annotations

import time

import pytest
from support.sync_flink_support import (
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
READY_IN_20S = {"kubernetes.operator.deployment.readiness.timeout": "20 s"}


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
    commit(2, **READY_IN_20S)  # two slots wanted, one there: never ready
    rolled = sync(world)
    plan = plan_of(rolled, rid)
    assert plan.action is Action.ROLLBACK and rolled.ok, rolled.executions
    status = world.status(rid)
    assert status.lifecycle_state is LifecycleState.ROLLED_BACK
    record = status.reconciliation.rollback
    assert record is not None and "within 20s" in record.reason, record
    assert record.restore_point is not None
    [job] = world.running_jobs(rid)
    api = world.api(rid)
    assert same_path(api.checkpoints(job).restored, record.restore_point)
    assert {v.parallelism for v in api.job_details(job).vertices} == {1}
    wait_counting(api, job, 1)
    start = counter_gauge(api, job, "startCount")
    assert start is not None and start > 1, "the counter started again from zero"
