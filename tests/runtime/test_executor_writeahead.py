"""The write-ahead rule: intent and snapshots are durable before the next destructive call."""

from __future__ import annotations

from support.executor_plans import APP, app, deployed, plan, run, upgrade_plan
from support.fakes import fake_world

from gitflink.model.plan import Action, StopCluster, StopJob
from gitflink.model.resources import UpgradeMode


def _first(events: list[tuple[str, ...]], source: str, contains: str) -> int:
    return next(i for i, e in enumerate(events) if e[0] == source and contains in e[1])


def test_savepoint_upgrade_saves_intent_then_savepoint_then_generation_before_each_call() -> None:
    world = fake_world()
    deployed(world)
    start = len(world.journal.events)
    assert run(world, upgrade_plan(app(parallelism=3)), revision="rev2").ok
    events = world.journal.events[start:]
    intent = _first(events, "status", "intent recorded")
    stop = _first(events, "flink", "stop_with_savepoint")
    savepoint_saved = _first(events, "status", "taken, job")
    generation_saved = _first(events, "status", "submitting generation 2")
    submit = _first(events, "flink", "run_jar")
    assert intent < stop < savepoint_saved < generation_saved < submit
    assert events[intent][2] == "UPGRADING"
    assert events[-1][0] == "status" and events[-1][2] == "STABLE"


def test_last_state_records_the_checkpoint_before_cancelling() -> None:
    world = fake_world()
    job_id = deployed(world, app(mode="last-state"))
    world.runtime.api_for(APP).complete_checkpoint(job_id)
    start = len(world.journal.events)
    assert run(world, upgrade_plan(app(mode="last-state", args=()), UpgradeMode.LAST_STATE)).ok
    events = world.journal.events[start:]
    assert _first(events, "status", "recorded, cancelling") < _first(events, "flink", "cancel")


def test_delete_records_intent_before_stopping_anything() -> None:
    world = fake_world()
    deployed(world)
    start = len(world.journal.events)
    delete = plan(None, Action.DELETE, StopJob(APP, UpgradeMode.SAVEPOINT), StopCluster(APP))
    assert run(world, delete).ok
    events = world.journal.events[start:]
    assert events[0][0] == "status" and events[0][2] == "DELETING"
    assert _first(events, "status", "taken") < _first(events, "runtime", "delete_cluster")


def test_no_destructive_call_happens_when_the_intent_cannot_be_saved() -> None:
    world = fake_world()
    job_id = deployed(world)
    world.store.fail_after = 1
    start = len(world.journal.events)
    result = run(world, upgrade_plan(app(parallelism=3)))
    assert not result.ok
    assert "disk full" in (result.error or "")
    assert [e for e in world.journal.events[start:] if e[0] == "flink"] == []
    assert [j.job_id for j in world.runtime.api_for(APP).running_jobs()] == [job_id]
