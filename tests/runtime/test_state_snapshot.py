"""A FlinkStateSnapshot takes one savepoint of the job it references: the path lands in the
snapshot's status and in the job's lineage, the job itself is not restarted or re-recorded."""

from __future__ import annotations

from support.fakes import fake_world
from support.passes import ORDERS, SNAPSHOT, app
from support.passes import SNAPSHOT_MANIFEST as MANIFEST
from support.passes import pass_ok as _pass

from gitflink.model.ids import job_id_for
from gitflink.model.status import LifecycleState


def test_snapshot_resource_records_its_savepoint_and_leaves_the_job_running() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    job_history = world.store.load(ORDERS)
    assert job_history is not None
    world.source.commit({"streaming/orders.yaml": app("orders"), "streaming/sp.yaml": MANIFEST})
    _pass(world)

    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    assert job.job_id == job_id_for(ORDERS, 1)  # still the first job: nothing restarted
    assert len(job.savepoints) == 1
    snapshot = world.store.load(SNAPSHOT)
    assert snapshot is not None and snapshot.lifecycle_state is LifecycleState.STABLE
    taken = snapshot.job_status.last_savepoint
    assert taken is not None and taken.path == job.savepoints[0]
    orders = world.store.load(ORDERS)
    assert orders is not None and orders.job_status.last_savepoint == taken  # lineage
    assert [h.action for h in orders.history] == [h.action for h in job_history.history]

    _pass(world)  # an unchanged snapshot manifest takes no second savepoint
    assert len(job.savepoints) == 1
