"""Periodic savepoints and checkpoints, the savepoint history's trimming and disposal, and the
FlinkStateSnapshot status (backoffLimit, alreadyExists, abandoned, disposeOnDelete), in whole
passes on the fakes."""

from __future__ import annotations

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, SESSION_FILES, SNAPSHOT, SNAPSHOT_MANIFEST, VIEWS, app
from support.passes import pass_ok as _pass

from gitflink.model.errors import FlinkUnreachable
from gitflink.model.status import LifecycleState, SnapshotKind, SnapshotState, SnapshotTrigger
from gitflink.runtime.flinkjobs import SNAPSHOT_ATTEMPTS
from gitflink.runtime.reconciler import PassConfig, run_pass

PERIODIC = "kubernetes.operator.periodic.savepoint.interval"


def configured(**keys: str) -> bytes:
    lines = "".join(f"    {key}: '{value}'\n" for key, value in keys.items())
    return app("orders").replace(
        b"  flinkConfiguration:\n", f"  flinkConfiguration:\n{lines}".encode()
    )


def deployed(manifest: bytes) -> FakeWorld:
    world = fake_world({"streaming/orders.yaml": manifest})
    _pass(world)
    return world


def test_a_periodic_savepoint_is_taken_once_the_interval_passed() -> None:
    world = deployed(configured(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    _pass(world)
    assert job.savepoints == []  # not due yet
    world.clock.sleep(601)
    _pass(world)
    assert len(job.savepoints) == 1
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.trigger is SnapshotTrigger.PERIODIC
    assert [(e.use, e.path) for e in status.lineage] == [("periodic", job.savepoints[0])]
    assert [h.action for h in status.history] == ["deploy"]  # no history entry for it
    _pass(world)
    assert len(job.savepoints) == 1  # the next one is due 10 minutes after this one


def test_a_periodic_savepoint_whose_record_was_lost_reattaches_to_its_trigger() -> None:
    world = deployed(configured(**{PERIODIC: "10 min"}))
    [job] = world.runtime.api_for(ORDERS).running_jobs()
    before = world.store.load(ORDERS)
    assert before is not None
    world.clock.sleep(601)
    _pass(world)
    world.store.save(ORDERS, before, "the status write of that pass was lost (crash)")
    _pass(world)
    assert len(job.savepoints) == 1  # the same trigger id: Flink answered the same savepoint
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.path == job.savepoints[0]


def test_a_declined_savepoint_is_taken_in_the_same_pass_under_a_trigger_of_its_own() -> None:
    world = deployed(configured(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    before = world.store.load(ORDERS)
    assert before is not None
    api.savepoint_failures = ["CheckpointException: Task local checkpoint failure."]
    world.clock.sleep(601)
    _pass(world)
    declined, taken = api.triggers.items()  # Flink would answer the first id with its failure
    assert declined[1].failure is not None and taken[1].location == job.savepoints[0]
    status = world.store.load(ORDERS)
    assert status is not None and status.error is None
    assert status.job_status.last_savepoint is not None
    assert status.job_status.last_savepoint.trigger_id == taken[0]
    # A pass whose status write was lost posts the same two ids: no second savepoint.
    world.store.save(ORDERS, before, "the status write of that pass was lost (crash)")
    _pass(world)
    assert len(api.triggers) == 2 and len(job.savepoints) == 1


def test_a_failed_periodic_savepoint_waits_an_interval_and_retries_under_a_new_trigger() -> None:
    world = deployed(configured(**{PERIODIC: "10 min"}))
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    api.savepoint_failures = ["disk full"] * SNAPSHOT_ATTEMPTS
    world.clock.sleep(601)
    run_pass(world.ports, PassConfig())
    status = world.store.load(ORDERS)
    assert status is not None and "disk full" in (status.error or "")
    assert status.lifecycle_state is LifecycleState.STABLE  # the job runs on
    tried = len(api.triggers)
    run_pass(world.ports, PassConfig())
    assert len(api.triggers) == tried  # not again before an interval passed
    world.clock.sleep(601)
    _pass(world)
    assert len(api.triggers) == tried + 1 and len(job.savepoints) == 1
    status = world.store.load(ORDERS)
    assert status is not None and status.error is None


def test_a_declined_checkpoint_is_tried_again_until_the_attempts_run_out() -> None:
    world = deployed(configured(**{"kubernetes.operator.periodic.checkpoint.interval": "1 min"}))
    api = world.runtime.api_for(ORDERS)
    api.savepoint_failures = ["Task local checkpoint failure."] * (SNAPSHOT_ATTEMPTS + 1)
    world.clock.sleep(61)
    run_pass(world.ports, PassConfig())
    assert len(api.triggers) == SNAPSHOT_ATTEMPTS  # then the step gives up, the job runs on
    status = world.store.load(ORDERS)
    assert status is not None and "Task local" in (status.error or "")
    assert status.job_status.last_checkpoint is None
    world.clock.sleep(61)
    _pass(world)  # the next attempt, an interval later: declined once more, then taken
    assert len(api.triggers) == SNAPSHOT_ATTEMPTS + 2
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.last_checkpoint is not None


def test_periodic_checkpoints_use_their_own_interval() -> None:
    world = deployed(configured(**{"kubernetes.operator.periodic.checkpoint.interval": "1 min"}))
    world.clock.sleep(61)
    _pass(world)
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.last_checkpoint is not None
    assert status.job_status.last_checkpoint.kind is SnapshotKind.CHECKPOINT
    assert status.job_status.last_savepoint is None
    assert [e.use for e in status.lineage] == ["periodic"]


def test_the_history_is_trimmed_and_the_dropped_savepoints_disposed() -> None:
    world = deployed(
        configured(
            **{
                PERIODIC: "1 min",
                "kubernetes.operator.savepoint.history.max.count": "2",
                "kubernetes.operator.savepoint.dispose-on-delete": "true",
            }
        )
    )
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    for _ in range(4):
        world.clock.sleep(61)
        _pass(world)
    _pass(world)  # trims what the last periodic savepoint pushed over the limit
    status = world.store.load(ORDERS)
    assert status is not None
    kept = [s.path for s in status.job_status.savepoint_history]
    assert kept == job.savepoints[-2:]
    assert api.disposed == job.savepoints[:2]
    assert not set(api.disposed) & api.existing_paths
    assert status.job_status.disposing == []


def test_without_dispose_on_delete_the_history_forgets_but_keeps_the_data() -> None:
    world = deployed(
        configured(**{PERIODIC: "1 min", "kubernetes.operator.savepoint.history.max.count": "1"})
    )
    api = world.runtime.api_for(ORDERS)
    for _ in range(2):
        world.clock.sleep(61)
        _pass(world)
    _pass(world)
    status = world.store.load(ORDERS)
    assert status is not None and len(status.job_status.savepoint_history) == 1
    assert api.disposed == []


def snapshot_manifest(extra: str = "", savepoint: str = "{}") -> bytes:
    text = SNAPSHOT_MANIFEST.decode().replace("savepoint: {}", f"savepoint: {savepoint}")
    return (text + extra).encode()


def with_snapshot(world: FakeWorld, manifest: bytes) -> None:
    world.source.commit({"streaming/orders.yaml": app("orders"), "streaming/sp.yaml": manifest})


def test_a_snapshot_resource_completes_with_the_operator_status() -> None:
    world = deployed(app("orders"))
    with_snapshot(world, SNAPSHOT_MANIFEST)
    _pass(world)
    status = world.store.load(SNAPSHOT)
    [job] = world.runtime.api_for(ORDERS).running_jobs()
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.COMPLETED
    assert status.snapshot.path == job.savepoints[0]
    assert status.snapshot.trigger_id is not None and status.snapshot.failures == 0
    assert status.snapshot.trigger_timestamp is not None
    assert status.snapshot.result_timestamp is not None
    # The spec it was about is recorded as applied; nothing is left in flight.
    assert status.pending is None and status.reconciliation.last_applied_spec is not None
    orders = world.store.load(ORDERS)
    assert orders is not None and [e.use for e in orders.lineage] == ["snapshot orders-sp"]


def test_a_failed_trigger_is_retried_within_the_backoff_limit() -> None:
    world = deployed(app("orders"))
    api = world.runtime.api_for(ORDERS)
    api.savepoint_failures = ["disk full"]
    with_snapshot(world, SNAPSHOT_MANIFEST)  # backoffLimit unset: one retry
    run_pass(world.ports, PassConfig())
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.TRIGGER_PENDING
    assert status.snapshot.failures == 1 and "disk full" in (status.snapshot.error or "")
    failed_trigger = status.snapshot.trigger_id
    _pass(world)
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.COMPLETED
    assert status.snapshot.trigger_id != failed_trigger


def test_beyond_the_backoff_limit_the_snapshot_failed_for_good() -> None:
    world = deployed(app("orders"))
    api = world.runtime.api_for(ORDERS)
    api.savepoint_failures = ["disk full"]
    with_snapshot(world, snapshot_manifest("  backoffLimit: 0\n"))
    run_pass(world.ports, PassConfig())
    run_pass(world.ports, PassConfig())
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.FAILED and status.snapshot.failures == 1
    [job] = api.running_jobs()
    assert job.savepoints == []  # never triggered again


def test_an_existing_savepoint_is_registered_without_a_trigger() -> None:
    world = deployed(app("orders"))
    path = "file:///flink-data/savepoints/savepoint-old"
    with_snapshot(world, snapshot_manifest(savepoint=f"{{path: '{path}', alreadyExists: true}}"))
    _pass(world)
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert (status.snapshot.state, status.snapshot.path) == (SnapshotState.COMPLETED, path)
    assert "trigger_savepoint" not in world.journal.calls("flink")


def test_a_snapshot_of_a_job_that_does_not_run_is_abandoned() -> None:
    suspended = app("orders").replace(
        b"upgradeMode: savepoint", b"upgradeMode: savepoint\n    state: suspended"
    )
    world = deployed(app("orders"))
    world.source.commit({"streaming/orders.yaml": suspended})
    _pass(world)
    world.source.commit(
        {"streaming/orders.yaml": suspended, "streaming/sp.yaml": SNAPSHOT_MANIFEST}
    )
    run_pass(world.ports, PassConfig())
    run_pass(world.ports, PassConfig())  # final: not tried again
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.ABANDONED
    assert "orders is not running" in (status.snapshot.error or "")
    assert "trigger_savepoint" not in world.journal.calls("flink")


def test_a_snapshot_of_an_unknown_job_fails_within_its_backoff_limit() -> None:
    world = deployed(app("orders"))
    ghost = SNAPSHOT_MANIFEST.replace(b"name: orders}", b"name: ghost}")
    with_snapshot(world, ghost)
    for _ in range(3):
        run_pass(world.ports, PassConfig())
    status = world.store.load(SNAPSHOT)
    assert status is not None and status.snapshot is not None
    assert status.snapshot.state is SnapshotState.FAILED and status.snapshot.failures == 2


def test_a_snapshot_removed_from_git_disposes_its_data_when_asked() -> None:
    world = deployed(app("orders"))
    with_snapshot(world, snapshot_manifest(savepoint="{disposeOnDelete: true}"))
    _pass(world)
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    world.source.commit({"streaming/orders.yaml": app("orders")})
    _pass(world)
    assert api.disposed == job.savepoints
    orders = world.store.load(ORDERS)
    assert orders is not None  # the job keeps running, its lineage keeps the entry
    assert [e.path for e in orders.lineage] == job.savepoints


def test_a_snapshot_trigger_is_saved_in_progress_before_flink_is_asked() -> None:
    world = deployed(app("orders"))
    with_snapshot(world, SNAPSHOT_MANIFEST)
    _pass(world)
    events = world.journal.events
    saved = next(
        i
        for i, e in enumerate(events)
        if e[1].startswith("streaming/orders-sp: snapshot triggered")
    )
    triggered = next(i for i, e in enumerate(events) if e[:2] == ("flink", "trigger_savepoint"))
    assert saved < triggered


def test_a_crash_after_the_trigger_reattaches_to_the_same_savepoint() -> None:
    world = deployed(app("orders"))
    orders_before = world.store.load(ORDERS)
    assert orders_before is not None
    with_snapshot(world, SNAPSHOT_MANIFEST)
    _pass(world)
    [in_progress] = [
        s
        for rid, s, _ in world.store.saves
        if rid == SNAPSHOT
        and s.snapshot is not None
        and s.snapshot.state is SnapshotState.IN_PROGRESS
    ]
    completed = world.store.load(SNAPSHOT)
    assert completed is not None and completed.snapshot is not None
    # What the store held had the process died right after the trigger:
    world.store.save(SNAPSHOT, in_progress, "crash: the savepoint was not recorded")
    world.store.save(ORDERS, orders_before, "crash: the savepoint was not recorded")
    _pass(world)
    [job] = world.runtime.api_for(ORDERS).running_jobs()
    assert len(job.savepoints) == 1  # the same trigger id: no second savepoint
    again = world.store.load(SNAPSHOT)
    assert again is not None and again.snapshot is not None
    assert again.snapshot.state is SnapshotState.COMPLETED
    assert (again.snapshot.path, again.snapshot.trigger_id) == (
        completed.snapshot.path,
        completed.snapshot.trigger_id,
    )


def test_a_disposal_interrupted_after_the_history_save_is_finished_on_a_later_pass() -> None:
    world = deployed(
        configured(
            **{
                PERIODIC: "1 min",
                "kubernetes.operator.savepoint.history.max.count": "1",
                "kubernetes.operator.savepoint.dispose-on-delete": "true",
            }
        )
    )
    api = world.runtime.api_for(ORDERS)
    [job] = api.running_jobs()
    for _ in range(2):
        world.clock.sleep(61)
        _pass(world)
    real = api.dispose_savepoint

    def lost(path: str) -> str:
        raise FlinkUnreachable("connection reset (the process died here)")

    api.dispose_savepoint = lost  # type: ignore[method-assign]
    run_pass(world.ports, PassConfig())
    status = world.store.load(ORDERS)
    assert status is not None
    assert status.job_status.disposing == [job.savepoints[0]]  # forgotten, not yet disposed
    assert [s.path for s in status.job_status.savepoint_history] == [job.savepoints[1]]
    api.dispose_savepoint = real  # type: ignore[method-assign]
    _pass(world)
    status = world.store.load(ORDERS)
    assert status is not None and status.job_status.disposing == []
    assert api.disposed == [job.savepoints[0]]


def test_a_session_job_takes_periodic_savepoints_its_cluster_configures() -> None:
    cluster = SESSION_FILES["analytics/cluster.yaml"].replace(
        b"  flinkVersion: v1_20}",
        b"  flinkVersion: v1_20,\n  flinkConfiguration: "
        b"{kubernetes.operator.periodic.savepoint.interval: 5 min, "
        b"state.savepoints.dir: 'file:///flink-data/savepoints'}}",
    )
    world = fake_world({**SESSION_FILES, "analytics/cluster.yaml": cluster})
    _pass(world)
    world.clock.sleep(301)
    _pass(world)
    views = world.store.load(VIEWS)
    assert views is not None and [e.use for e in views.lineage] == ["periodic"]
