"""One status writer: what a pass reports is decided at its end from the statuses its steps left,
never from the statuses loaded before execution (which a session cluster's upgrade or a
snapshot of another resource has since changed)."""

from __future__ import annotations

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, SESSION, SESSION_FILES, SNAPSHOT, SNAPSHOT_MANIFEST, VIEWS, app
from support.passes import pass_ok as _pass

from gitflink.model.ids import ResourceId, job_id_for


def _record_job_state(world: FakeWorld, resource: ResourceId, state: str) -> None:
    """A recorded job state that differs from what Flink reports (the last pass saw the job
    restarting, say): the pass that follows reports the state Flink gives."""
    status = world.store.load(resource)
    assert status is not None
    status.job_status.state = state
    world.store.save(resource, status, "job state as last observed")


def test_session_cluster_upgrade_records_the_new_generation_of_its_carried_job() -> None:
    world = fake_world(SESSION_FILES)
    _pass(world)
    _record_job_state(world, VIEWS, "RESTARTING")
    cluster = SESSION_FILES["analytics/cluster.yaml"].replace(
        b"v1_20}", b"v1_20, image: 'flink:1.20.1'}"
    )
    world.source.commit({**SESSION_FILES, "analytics/cluster.yaml": cluster})
    _pass(world)
    [running] = world.runtime.api_for(SESSION).running_jobs()
    assert running.job_id == job_id_for(VIEWS, 2)
    for _ in range(2):  # and it stays so on the passes after
        status = world.store.load(VIEWS)
        assert status is not None
        assert (status.job_status.generation, status.job_status.job_id) == (2, running.job_id)
        assert status.job_status.state == "RUNNING" and status.pending is None
        _pass(world)


def test_a_snapshot_of_a_job_keeps_the_savepoint_in_the_jobs_status() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    _record_job_state(world, ORDERS, "RESTARTING")
    world.source.commit(
        {"streaming/orders.yaml": app("orders"), "streaming/sp.yaml": SNAPSHOT_MANIFEST}
    )
    _pass(world)
    [job] = world.runtime.api_for(ORDERS).running_jobs()
    orders = world.store.load(ORDERS)
    assert orders is not None and orders.job_status.last_savepoint is not None
    assert orders.job_status.last_savepoint.path == job.savepoints[0]
    assert orders.job_status.state == "RUNNING"
    snapshot = world.store.load(SNAPSHOT)
    assert snapshot is not None and snapshot.job_status.last_savepoint is not None
    assert snapshot.job_status.last_savepoint.path == job.savepoints[0]


def test_a_quiet_pass_writes_no_status() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders"), **SESSION_FILES})
    _pass(world)
    _pass(world)
    saves = len(world.store.saves)
    _pass(world)
    assert len(world.store.saves) == saves


def test_one_upgrade_writes_each_write_ahead_point_and_one_final_status() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    before = len(world.store.saves)
    world.source.commit({"streaming/orders.yaml": app("orders", rate=20)})
    _pass(world)
    messages = [message for _, _, message in world.store.saves[before:]]
    assert [m.split(": ", 1)[1].split(" ")[0:2] for m in messages] == [
        ["upgrade", "started"],  # the intent
        ["savepoint", world.store.load(ORDERS).job_status.last_savepoint.path],  # type: ignore[union-attr]
        ["submitting", "generation"],
        ["upgrade", "done"],  # the one final status
    ]
