"""SCALE changes through whole passes on fakes: in place once a checkpoint exists on Flink 1.x,
a savepoint upgrade before that, and TaskManagers added without touching the job."""

from __future__ import annotations

from support.fakes import FakeWorld, fake_world

from gitflink.model.ids import Kind, ResourceId, job_id_for
from gitflink.model.plan import Action
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")
FILE = "streaming/orders.yaml"


def manifest(*, parallelism: int = 2, replicas: int = 1) -> dict[str, bytes]:
    text = f"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {{name: orders, namespace: streaming}}
spec:
  flinkVersion: v1_20
  mode: standalone
  flinkConfiguration:
    jobmanager.memory.process.size: 1g
    taskmanager.memory.process.size: 1g
    jobmanager.scheduler: adaptive
    taskmanager.numberOfTaskSlots: "4"
    state.checkpoints.dir: file:///flink-data/checkpoints
    state.savepoints.dir: file:///flink-data/savepoints
  taskManager: {{replicas: {replicas}}}
  job:
    jarURI: local:///opt/flink/examples/streaming/gitflink-testjob.jar
    parallelism: {parallelism}
    upgradeMode: savepoint
"""
    return {FILE: text.encode()}


def sync(world: FakeWorld) -> PassResult:
    result = run_pass(world.ports, PassConfig(max_workers=1))
    assert result.error is None and not result.problems, (result.error, result.problems)
    for execution in result.executions:
        assert execution.ok, (execution.resource, execution.error)
    return result


def action(result: PassResult) -> Action:
    (execution,) = result.executions
    return execution.action


def deployed_world() -> FakeWorld:
    world = fake_world(manifest())
    sync(world)
    return world


def test_rescale_before_the_first_checkpoint_on_flink_1_is_a_savepoint_upgrade() -> None:
    world = deployed_world()
    world.source.commit(manifest(parallelism=3))
    assert action(sync(world)) is Action.SCALE
    api = world.runtime.api_for(ORDERS)
    assert "set_parallelism" not in world.journal.calls("flink")
    assert [(j.job_id, j.parallelism) for j in api.running_jobs()] == [(job_id_for(ORDERS, 2), 3)]
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.job_id == job_id_for(ORDERS, 1)


def test_rescale_after_a_checkpoint_keeps_the_job_and_its_id() -> None:
    world = deployed_world()
    api = world.runtime.api_for(ORDERS)
    first = job_id_for(ORDERS, 1)
    api.complete_checkpoint(first)
    world.source.commit(manifest(parallelism=3))
    assert action(sync(world)) is Action.SCALE
    assert [(j.job_id, j.parallelism) for j in api.running_jobs()] == [(first, 3)]
    assert "stop_with_savepoint" not in world.journal.calls("flink")


def test_more_taskmanagers_grow_the_cluster_and_leave_the_job_alone() -> None:
    world = deployed_world()
    api = world.runtime.api_for(ORDERS)
    calls = len(world.journal.calls("flink"))
    world.source.commit(manifest(replicas=2))
    assert action(sync(world)) is Action.SCALE
    assert [j.job_id for j in api.running_jobs()] == [job_id_for(ORDERS, 1)]
    touched = world.journal.calls("flink")[calls:]
    assert not {"cancel", "stop_with_savepoint", "run_jar", "set_parallelism"} & set(touched)
    assert world.journal.calls("runtime")[-1] == "ensure_cluster"
    status = world.store.load(ORDERS)
    assert status is not None and status.pending is None
    assert (status.reconciliation.last_applied_spec or {})["taskManager"] == {"replicas": 2}
