"""One pass end to end on fakes: Git -> parse -> plan -> execute -> status, per resource."""

from __future__ import annotations

from pathlib import Path

from support.fakes import FakeJob, FakeStatusStore, fake_world
from support.passes import CLICKS, ORDERS, SESSION, SESSION_FILES, VIEWS, app
from support.passes import pass_ok as _pass

from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.errors import Next
from gitflink.model.ids import job_id_for
from gitflink.model.status import LifecycleState
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassConfig, run_pass


def test_first_pass_deploys_everything_and_second_pass_changes_nothing() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders"), **SESSION_FILES})
    _pass(world)
    assert world.runtime.api_for(ORDERS).running_jobs()[0].job_id == job_id_for(ORDERS, 1)
    assert [j.job_id for j in world.runtime.api_for(SESSION).running_jobs()] == [
        job_id_for(VIEWS, 1)
    ]
    for rid in (ORDERS, SESSION, VIEWS):
        status = world.store.load(rid)
        assert status is not None and status.lifecycle_state is LifecycleState.STABLE, rid
    saves = len(world.store.saves)
    calls = len(world.journal.calls("flink"))
    _pass(world)
    assert len(world.store.saves) == saves
    assert world.journal.calls("flink")[calls:] == []


def test_changed_manifest_is_upgraded_through_a_savepoint() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    old = job_id_for(ORDERS, 1)
    world.source.commit({"streaming/orders.yaml": app("orders", parallelism=3, rate=20)})
    _pass(world)
    api = world.runtime.api_for(ORDERS)
    assert api.jobs[old].state == "FINISHED"
    [new] = api.running_jobs()
    assert new.restored == api.jobs[old].savepoints[-1]
    assert (new.parallelism, new.args) == (3, ("--rate", "20"))
    status = world.store.load(ORDERS)
    assert status is not None and status.applied_revision == world.source.revision.sha


def test_invalid_resource_is_skipped_and_recorded_while_others_proceed() -> None:
    world = fake_world(
        {"streaming/orders.yaml": app("orders"), "streaming/clicks.yaml": app("clicks")}
    )
    _pass(world)
    world.source.commit(
        {
            "streaming/orders.yaml": app("orders", rate=99),
            "streaming/clicks.yaml": app("clicks", parallelism=0),
        }
    )
    result = run_pass(world.ports)
    assert not result.ok
    clicks = world.store.load(CLICKS)
    assert clicks is not None and clicks.error and "parallelism" in clicks.error
    assert world.runtime.api_for(CLICKS).running_jobs()[0].job_id == job_id_for(CLICKS, 1)
    [orders_job] = world.runtime.api_for(ORDERS).running_jobs()
    assert orders_job.args == ("--rate", "99")


def test_resource_removed_from_git_is_deleted_with_its_cluster() -> None:
    world = fake_world(
        {"streaming/orders.yaml": app("orders"), "streaming/clicks.yaml": app("clicks")}
    )
    _pass(world)
    world.source.commit({"streaming/orders.yaml": app("orders")})
    _pass(world)
    assert world.runtime.find_cluster(CLICKS) is None
    tombstone = world.store.load(CLICKS)
    assert tombstone is not None and tombstone.lifecycle_state is LifecycleState.DELETED
    assert tombstone.reconciliation.last_applied_spec is None  # nothing of it counts as deployed
    final = tombstone.job_status.last_savepoint
    assert final is not None and final.job_id == job_id_for(CLICKS, 1)
    assert tombstone.history[0].action == "delete" and tombstone.history[0].savepoint == final.path
    assert world.runtime.find_cluster(ORDERS) is not None
    _pass(world)  # the tombstone plans nothing
    assert world.runtime.find_cluster(CLICKS) is None


def test_a_resource_created_again_after_its_delete_never_reuses_a_job_id() -> None:
    files = {"streaming/orders.yaml": app("orders"), "streaming/clicks.yaml": app("clicks")}
    world = fake_world(files)
    _pass(world)
    world.source.commit({"streaming/orders.yaml": app("orders")})
    _pass(world)
    world.source.commit(files)
    _pass(world)
    [running] = world.runtime.api_for(CLICKS).running_jobs()
    assert running.job_id == job_id_for(CLICKS, 2)
    assert running.restored is None  # a new incarnation starts from its own initial state


def test_secret_in_flink_configuration_is_not_stored_and_does_not_cause_upgrades(
    tmp_path: Path,
) -> None:
    secret = app("orders").replace(
        b"    state.savepoints.dir:", b"    s3.secret-key: hunter2\n    state.savepoints.dir:"
    )
    world = fake_world({"streaming/orders.yaml": secret})
    store = FileStatusStore(tmp_path)
    ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
    assert run_pass(ports).ok
    assert "hunter2" not in store.path_of(ORDERS).read_text()
    calls = len(world.journal.calls("flink"))
    again = run_pass(ports)
    assert again.ok
    assert [e.action.value for e in again.executions] == ["none"]
    assert world.journal.calls("flink")[calls:] == []


def test_a_path_that_matches_nothing_stops_the_pass_before_planning() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    result = run_pass(world.ports, PassConfig(roots=("streamin",)))
    assert result.error is not None and "matches no manifests" in result.error
    assert result.plan is None
    assert len(world.runtime.api_for(ORDERS).running_jobs()) == 1  # untouched
    status = world.store.load(ORDERS)
    assert status is not None and status.lifecycle_state is LifecycleState.STABLE


def test_removing_every_manifest_is_refused_and_the_jobs_keep_running() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders"), **SESSION_FILES})
    _pass(world)
    world.source.commit({"README.md": b"moved elsewhere"})
    result = run_pass(world.ports)
    assert not result.ok
    assert {e.resource for e in result.executions} == {ORDERS, SESSION, VIEWS}
    assert all("mass prune refused" in str(e.error) for e in result.executions)
    assert len(world.runtime.api_for(ORDERS).running_jobs()) == 1
    assert len(world.runtime.api_for(SESSION).running_jobs()) == 1


def test_a_job_no_status_records_is_stopped_with_a_savepoint_and_its_state_carried_on() -> None:
    """A running job this status store knows nothing of (its status lost, or started by hand)
    in the resource's own cluster: never a second job next to it, never its state dropped."""
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    [running] = world.runtime.api_for(ORDERS).running_jobs()
    other = Ports(world.source, world.runtime, world.runtime.api, FakeStatusStore(), world.clock)
    result = run_pass(other)
    assert result.ok, result.executions
    plan = result.plan.for_resource(ORDERS) if result.plan else None
    assert plan is not None and "runs in the cluster without a status here" in plan.risks[0]
    api = world.runtime.api_for(ORDERS)
    [new] = api.running_jobs()
    assert new.job_id != running.job_id and api.jobs[running.job_id].state == "FINISHED"
    assert new.restored == api.jobs[running.job_id].savepoints[-1]


def test_two_jobs_no_status_records_block_the_takeover() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    _pass(world)
    api = world.runtime.api_for(ORDERS)
    api.jobs["f" * 32] = FakeJob("f" * 32, "by hand", "RUNNING", 1)
    other = Ports(world.source, world.runtime, world.runtime.api, FakeStatusStore(), world.clock)
    result = run_pass(other)
    assert not result.ok
    [execution] = result.executions
    assert execution.next is Next.STALL and "stop all but one" in str(execution.error)
    assert len(api.running_jobs()) == 2


def test_a_source_prunes_only_what_it_manages_and_leaves_another_sources_resources() -> None:
    """Two repositories synced into one data dir, and a narrower --path: each deletes only
    what it applied itself; a resource the other source manages is a conflict, untouched."""
    world = fake_world(
        {"streaming/orders.yaml": app("orders"), "streaming/clicks.yaml": app("clicks")}
    )
    whole = PassConfig(source_id="repo-a#main:/")
    assert run_pass(world.ports, whole).ok
    saves = len(world.store.saves)
    narrow = PassConfig(source_id="repo-a#main:streaming/orders", roots=("streaming",))
    world.source.commit({"streaming/orders.yaml": app("orders")})
    result = run_pass(world.ports, narrow)
    assert not result.ok
    [conflict] = result.executions
    assert conflict.resource == ORDERS and "managed by another source" in str(conflict.error)
    assert world.runtime.find_cluster(CLICKS) is not None  # never pruned by the other source
    assert len(world.runtime.api_for(ORDERS).running_jobs()) == 1
    assert len(world.store.saves) == saves  # nor is the other source's status written
    status = world.store.load(ORDERS)
    assert status is not None and status.source == "repo-a#main:/"
    world.source.commit({"streaming/orders.yaml": app("orders")})
    assert run_pass(world.ports, whole).ok  # its own source deletes clicks as usual
    assert world.runtime.find_cluster(CLICKS) is None
