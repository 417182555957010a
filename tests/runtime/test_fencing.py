"""The fence around the mutating ports (runtime.fencing): a leader paused in the middle of a
pass wakes unable to prove it leads, and its pass stops at the next write without recording a
failure; reads still pass; a provable leader's pass is untouched. The listeners are fenced too:
a commit status or webhook from an agent that lost its lease would contradict the leader's."""

from __future__ import annotations

import inspect

import pytest
from support.crash_points import READS
from support.fakes import FakeClock, FakeFlinkRuntime, fake_world
from support.leases import MemoryLease
from support.listeners import RecordingListener
from support.passes import ORDERS, app

from gitflink.model.errors import NotLeader
from gitflink.model.ids import ResourceId
from gitflink.model.notifications import RevisionState, RevisionStateKind
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.ports import ClusterHandle, FlinkApi, Ports
from gitflink.runtime.election import Elector
from gitflink.runtime.fencing import fenced
from gitflink.runtime.notifying import NamedListener, Notifier
from gitflink.runtime.reconciler import PassConfig, run_pass


class PausedAfterStart(FakeFlinkRuntime):
    """The process is stopped for `pause` seconds right after its cluster came up."""

    def __init__(self, runtime: FakeFlinkRuntime, clock: FakeClock, pause: float) -> None:
        self.__dict__.update(runtime.__dict__)
        self._clock, self._pause = clock, pause

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        handle = super().ensure_cluster(resource, spec, revision=revision)
        self._clock.sleep(self._pause)
        return handle


def leader(clock: FakeClock) -> Elector:
    elector = Elector(MemoryLease(), "a", clock)
    elector.step()
    assert elector.leading
    return elector


def test_a_leader_paused_mid_pass_writes_nothing_after_it_wakes_and_records_no_failure() -> None:
    world = fake_world({"orders.yaml": app("orders")})
    world.runtime = PausedAfterStart(world.runtime, world.clock, pause=30)
    ports = fenced(world.ports, leader(world.clock))
    with pytest.raises(NotLeader, match="cannot prove it holds the lease"):
        run_pass(ports, PassConfig())
    assert world.journal.calls("runtime") == ["ensure_cluster"]
    assert world.journal.calls("flink") == []  # no jar uploaded, no job submitted
    status = world.store.load(ORDERS)
    # Only the write-ahead intent saved while leading (if any): never a failure.
    assert status is None or (status.error is None and not status.job_status.state)


def test_a_provable_leader_passes_as_if_unfenced() -> None:
    world = fake_world({"orders.yaml": app("orders")})
    elector = leader(world.clock)
    ports: Ports = fenced(world.ports, elector)
    result = run_pass(ports, PassConfig())
    assert result.error is None and all(e.ok for e in result.executions)
    assert world.store.load(ORDERS) is not None
    assert "run_jar" in world.journal.calls("flink")


def test_a_standby_may_read_but_not_write() -> None:
    world = fake_world({"orders.yaml": app("orders")})
    spec = FlinkDeploymentSpec.model_validate({"flinkVersion": "v1_20"})
    handle = world.runtime.ensure_cluster(ORDERS, spec)  # started by an earlier leader
    standby = Elector(MemoryLease(), "b", world.clock)  # never stepped: it holds nothing
    ports = fenced(world.ports, standby)
    world.journal.events.clear()
    assert ports.runtime.find_cluster(ORDERS) == handle
    assert ports.status.load_all() == {}
    with pytest.raises(NotLeader):
        ports.runtime.delete_cluster(ORDERS)
    with pytest.raises(NotLeader):
        ports.flink(handle.rest_url).cancel("0" * 32)
    assert world.journal.events == []


def test_every_flink_write_a_standby_attempts_is_refused_before_it_reaches_flink() -> None:
    world = fake_world({"orders.yaml": app("orders")})
    spec = FlinkDeploymentSpec.model_validate({"flinkVersion": "v1_20"})
    handle = world.runtime.ensure_cluster(ORDERS, spec)
    api = fenced(world.ports, Elector(MemoryLease(), "b", world.clock)).flink(handle.rest_url)
    writes = sorted(
        name
        for name, _ in inspect.getmembers(FlinkApi, inspect.isfunction)
        if not name.startswith("_") and name not in READS["FlinkApi"]
    )
    assert {"run_jar", "cancel", "dispose_savepoint", "trigger_checkpoint"} <= set(writes)
    world.journal.events.clear()
    for name in writes:
        method = getattr(api, name)
        params = inspect.signature(method).parameters.values()
        # Never used: the fence refuses before the call reaches Flink.
        args = [None for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        with pytest.raises(NotLeader):
            method(*args)
    assert world.journal.events == []


def test_a_standby_tells_the_listeners_nothing() -> None:
    world = fake_world({"orders.yaml": app("orders")})
    standby = Elector(MemoryLease(), "b", world.clock)
    listener = RecordingListener()
    notifier = Notifier([NamedListener("rec", listener)], fence=standby)
    with pytest.raises(NotLeader):
        run_pass(fenced(world.ports, standby), PassConfig(notifier=notifier))
    assert listener.notices == []  # not even the revision's "pending"


def test_a_leader_that_woke_without_its_lease_tells_no_outcome() -> None:
    """Only the listeners fenced, so the pass's own writes go through: what it would tell
    after the pause is held back, the pass stopping as at any fenced write."""
    world = fake_world({"orders.yaml": app("orders")})
    world.runtime = PausedAfterStart(world.runtime, world.clock, pause=30)
    listener = RecordingListener()
    notifier = Notifier([NamedListener("rec", listener)], fence=leader(world.clock))
    with pytest.raises(NotLeader, match="tell the listeners"):
        run_pass(world.ports, PassConfig(notifier=notifier))
    assert "run_jar" in world.journal.calls("flink")  # the pass itself ran to its end
    [pending] = listener.notices  # told while it could prove it led
    assert isinstance(pending, RevisionState) and pending.state is RevisionStateKind.PENDING
