"""The agent loop with leader election: a pass that cannot prove it leads is a standby pass
(not a failure, not counted as a pass), and /readyz is ready when leading or standing by."""

from __future__ import annotations

from support.fakes import FakeClock
from support.leases import MemoryLease

from gitflink.agent.loop import Loop
from gitflink.model.errors import NotLeader
from gitflink.runtime.election import Elector


def fenced_pass() -> None:
    raise NotLeader("standing by")


def test_a_standby_pass_is_no_failure_and_a_standby_is_ready() -> None:
    lease, clock = MemoryLease(), FakeClock()
    leader, standby = Elector(lease, "a", clock), Elector(lease, "b", clock)
    loop = Loop(fenced_pass, elector=standby)
    assert loop.not_ready() == "leader election: the Lease could not be read yet"
    leader.step()
    standby.step()
    loop._one_pass()
    assert loop.passes == 0 and loop.last_error is None
    assert loop.metrics.passes.labels(result="standby")._value.get() == 1
    assert loop.not_ready() is None  # standing by: ready


def test_a_leader_is_ready_only_after_its_first_pass() -> None:
    clock = FakeClock()
    leader = Elector(MemoryLease(), "a", clock)
    leader.step()
    loop = Loop(lambda: None, elector=leader)
    assert loop.not_ready() == "no pass has finished yet"
    loop._one_pass()
    assert loop.not_ready() is None
    clock.sleep(11)  # no renewal for longer than the renew deadline: it stands by, ready
    assert loop.not_ready() is None and not leader.leading
