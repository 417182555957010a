"""The leader election state machine (runtime.election) on a fake clock and an in-memory Lease
with resourceVersions: who acquires, renews, stands by, takes over a silent leader, and when
the fence refuses."""

from __future__ import annotations

import pytest
from support.fakes import FakeClock
from support.leases import MemoryLease

from gitflink.model.errors import NotLeader
from gitflink.ports import LeaseRecord
from gitflink.runtime.election import Elector, Role, Timing


def pair() -> tuple[MemoryLease, FakeClock, Elector, Elector]:
    lease, clock = MemoryLease(), FakeClock()
    return lease, clock, Elector(lease, "a", clock), Elector(lease, "b", clock)


def test_the_first_acquires_the_other_stands_by_and_the_leader_renews() -> None:
    lease, clock, a, b = pair()
    assert a.role is Role.UNKNOWN and not a.leading
    a.step()
    b.step()
    assert (a.role, b.role) == (Role.LEADING, Role.STANDBY)
    assert lease.record is not None and lease.record.holder == "a"
    acquired = lease.record.acquired
    for _ in range(20):  # 40 s of renewals every 2 s: b never takes over
        clock.sleep(a.step())
        b.step()
    assert (a.role, b.role) == (Role.LEADING, Role.STANDBY)
    assert lease.record.acquired == acquired and lease.record.renewed != acquired
    assert lease.record.transitions == 0
    a.check("write")
    with pytest.raises(NotLeader):
        b.check("write")


def test_a_silent_leader_is_taken_over_one_lease_duration_after_its_last_renewal_was_seen() -> None:
    lease, clock, a, b = pair()
    a.step()
    b.step()  # b sees a's record now
    # a dies. b retries every 2 s, and no later than when the lease runs out.
    waited = 0.0
    while b.role is not Role.LEADING:
        wait = b.step()
        if b.role is Role.LEADING:
            break
        clock.sleep(wait)
        waited += wait
    assert waited == pytest.approx(15.0)
    assert lease.record is not None and lease.record.holder == "b"
    assert lease.record.transitions == 1


def test_the_fence_closes_at_the_renew_deadline_before_anyone_can_take_over() -> None:
    _lease, clock, a, b = pair()
    a.step()
    b.step()
    clock.sleep(9.9)
    a.check("write")  # renewed 9.9 s ago: still provably leading
    clock.sleep(0.2)
    with pytest.raises(NotLeader):
        a.check("write")  # 10.1 s: the renew deadline passed
    b.step()
    assert b.role is Role.STANDBY  # and nobody may take over for another 4.9 s


def test_a_leader_that_cannot_renew_steps_down_at_the_deadline() -> None:
    lease, clock, a, _ = pair()
    a.step()
    lease.down = True
    for _ in range(4):
        clock.sleep(a.step())
    assert a.role is Role.LEADING and a.leading  # 8 s without renewal: within the deadline
    clock.sleep(a.step())
    assert not a.leading  # 10 s: the fence closes on the clock, before the next attempt
    a.step()
    assert a.role is Role.STANDBY


def test_a_paused_leader_wakes_reads_the_new_holder_and_writes_nothing() -> None:
    lease, clock, a, b = pair()
    a.step()
    b.step()
    clock.sleep(30)  # a is stopped (SIGSTOP) for 30 s; b takes over meanwhile
    b.step()
    assert lease.record is not None and lease.record.holder == "b"
    writes = len(lease.writes)
    with pytest.raises(NotLeader):
        a.check("apply Deployment")  # the pass thread wakes first: refused
    a.step()  # then the election thread: reads, sees b, stands by
    assert a.role is Role.STANDBY
    assert len(lease.writes) == writes  # not even a lease update was attempted


def test_of_two_candidates_racing_for_a_silent_leaders_lease_one_wins() -> None:
    lease, clock, a, b = pair()
    c = Elector(lease, "c", clock)
    a.step()
    b.step()
    c.step()
    clock.sleep(15)  # a fell silent: b and c both see it expire and read the same version
    racing = lease.update

    def b_writes_first(record: LeaseRecord, version: str) -> str | None:
        lease.update = racing  # type: ignore[method-assign]
        b.step()  # b's whole attempt lands between c's read and c's write
        return racing(record, version)

    lease.update = b_writes_first  # type: ignore[method-assign]
    c.step()
    assert (b.role, c.role) == (Role.LEADING, Role.STANDBY)
    assert lease.record is not None and lease.record.holder == "b"
    assert lease.record.transitions == 1
    with pytest.raises(NotLeader):
        c.check("write")


def test_release_hands_the_lease_over_at_once() -> None:
    lease, _clock, a, b = pair()
    a.step()
    b.step()
    a.release()
    assert a.role is Role.STANDBY
    assert lease.record is not None and lease.record.holder is None
    b.step()  # no waiting for the duration: the holder is empty
    assert b.role is Role.LEADING


def test_the_timing_must_leave_a_margin() -> None:
    with pytest.raises(ValueError, match="retry < renew deadline < lease duration"):
        Timing(duration=10, renew_deadline=10, retry=2)
