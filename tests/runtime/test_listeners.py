"""Resource listeners are told what each pass decided (status changes, events, the revision's
state) and can never break a pass: one that raises or hangs is logged, timed out and counted."""

from __future__ import annotations

import json
import logging
import time

import pytest
from support.fakes import fake_world
from support.listeners import HangingListener, RaisingListener, RecordingListener
from support.passes import ORDERS, app

from gitflink.model.notifications import (
    EventType,
    ResourceEvent,
    RevisionState,
    RevisionStateKind,
    StatusChange,
)
from gitflink.model.status import LifecycleState
from gitflink.runtime.notifying import NamedListener, Notifier
from gitflink.runtime.reconciler import PassConfig, run_pass


def config(*listeners: NamedListener, timeout: float = 5.0) -> PassConfig:
    return PassConfig(notifier=Notifier(listeners, timeout=timeout))


def test_a_deploy_tells_pending_then_the_status_the_event_and_success() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    listener = RecordingListener()
    result = run_pass(world.ports, config(NamedListener("rec", listener)))
    assert result.ok
    sha = world.source.revision.sha
    first, *_, last = listener.notices
    assert first == RevisionState(
        sha, RevisionStateKind.PENDING, "applying: deploy streaming/orders", first.at
    )
    assert isinstance(last, RevisionState) and last.state is RevisionStateKind.SUCCESS
    assert last.description == "applied: deploy streaming/orders"
    [change] = listener.of(StatusChange)
    assert isinstance(change, StatusChange)
    assert change.resource == ORDERS and change.previous is None
    assert change.status is not None and change.status.lifecycle_state is LifecycleState.STABLE
    assert change.status == world.store.load(ORDERS)  # what was saved, nothing else
    [event] = listener.of(ResourceEvent)
    assert isinstance(event, ResourceEvent)
    assert (event.type, event.reason, event.revision) == (EventType.NORMAL, "Deploy", sha)


def test_a_pass_that_changes_nothing_tells_nothing() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    listener = RecordingListener()
    cfg = config(NamedListener("rec", listener))
    run_pass(world.ports, cfg)
    told = len(listener.notices)
    run_pass(world.ports, cfg)
    assert len(listener.notices) == told


def test_a_failed_change_tells_failure_with_the_plan_summary() -> None:
    broken = app("orders").replace(b"gitflink-testjob.jar", b"missing.jar")
    world = fake_world({"streaming/orders.yaml": broken})
    listener = RecordingListener()
    result = run_pass(world.ports, config(NamedListener("rec", listener)))
    assert not result.ok
    last = listener.notices[-1]
    assert isinstance(last, RevisionState) and last.state is RevisionStateKind.FAILURE
    assert last.description.startswith("failed: streaming/orders deploy failed")
    assert "jar not found" in last.description
    assert any(isinstance(n, ResourceEvent) and n.reason == "Failed" for n in listener.notices)


def test_a_raising_listener_is_counted_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    good = RecordingListener()
    cfg = config(NamedListener("bad", RaisingListener()), NamedListener("good", good))
    result = run_pass(world.ports, cfg)
    assert result.ok and world.store.load(ORDERS) is not None
    assert cfg.notifier.failures == {("bad", "error"): 1}
    assert "listener bad raised RuntimeError: listener bug" in caplog.text
    assert good.of(StatusChange)


def test_a_hanging_listener_is_timed_out_and_skipped_while_still_stuck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    world = fake_world({"streaming/orders.yaml": app("orders")})
    hanging = HangingListener()
    cfg = config(NamedListener("slow", hanging), timeout=0.3)
    started = time.monotonic()
    result = run_pass(world.ports, cfg)
    assert result.ok
    assert time.monotonic() - started < 5  # the pass waited the limit, not the listener
    assert cfg.notifier.failures[("slow", "timeout")] == 1
    world.source.commit({"streaming/orders.yaml": app("orders", rate=20)})
    run_pass(world.ports, cfg)  # still stuck: skipped, not a second thread
    assert cfg.notifier.failures[("slow", "busy")] >= 1
    assert hanging.calls == 1
    hanging.release.set()
    assert "listener slow did not return within 0.3 s" in caplog.text


def test_listeners_get_secrets_only_as_fingerprints() -> None:
    secret = b"    db.password: hunter2\n    state.checkpoints.dir"
    manifest = app("orders").replace(b"    state.checkpoints.dir", secret, 1)
    world = fake_world({"streaming/orders.yaml": manifest})
    listener = RecordingListener()
    assert run_pass(world.ports, config(NamedListener("rec", listener))).ok
    [change] = listener.of(StatusChange)
    assert isinstance(change, StatusChange) and change.status is not None
    payloads = json.dumps([notice.as_json() for notice in listener.notices])
    assert "hunter2" not in payloads
    spec = change.status.reconciliation.last_applied_spec
    assert spec is not None and spec["flinkConfiguration"]["db.password"].startswith("redacted:")
