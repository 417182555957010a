"""Leader election on a Lease, the way client-go's leaderelection does it (15 s lease, 10 s renew
deadline, 2 s retry), and the fence every write goes through (runtime.fencing).

Only this process's monotonic clock decides: a record's times are another machine's wall clock.
A standby takes over when the record it sees has not changed for a lease duration, counted
from when it first saw it; the leader may act until `renew_deadline` after it *sent* its last
successful renewal, so it stops acting `duration - renew_deadline` (5 s) before any standby can
take over. A process paused past that (SIGSTOP, a stalled VM) wakes unable to prove it leads:
`check` raises NotLeader before any write, and its next attempt reads the Lease first, sees the
new holder and stands by without writing. On `release` (SIGTERM) the Lease is handed over at
once (holder cleared, duration 1 s), like client-go's ReleaseOnCancel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from gitflink.model.errors import NotLeader
from gitflink.ports import NULL_METER, Clock, LeaseRecord, Leases, Meter

log = logging.getLogger("gitflink.leader")


class Role(StrEnum):
    UNKNOWN = "unknown"  # the Lease could not be read yet
    LEADING = "leading"
    STANDBY = "standby"  # another agent holds the Lease


@dataclass(frozen=True)
class Timing:
    duration: float = 15.0  # leaseDurationSeconds: how long a standby waits on a silent leader
    renew_deadline: float = 10.0  # the leader acts at most this long after its last renewal
    retry: float = 2.0  # between attempts

    def __post_init__(self) -> None:
        if not 0 < self.retry < self.renew_deadline < self.duration:
            raise ValueError("leader election needs 0 < retry < renew deadline < lease duration")


class Elector:
    """Implements the Fence port. `step()` is one attempt (the state machine, driven by tests
    with a fake clock); `run()` repeats it on a thread until `stop()`."""

    def __init__(
        self,
        leases: Leases,
        identity: str,
        clock: Clock,
        *,
        timing: Timing = Timing(),
        meter: Meter = NULL_METER,
        on_change: Callable[[Role], None] | None = None,
    ) -> None:
        self.leases, self.identity, self.clock, self.timing = leases, identity, clock, timing
        self._meter, self._on_change = meter, on_change
        self.role = Role.UNKNOWN
        self._renewed_at: float | None = None  # monotonic time our last renewal was sent
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0  # monotonic time we first saw `_observed`
        self._stop = threading.Event()
        self._lock = threading.Lock()
        meter.set("gitflink_leader", 0)

    # -- the fence ------------------------------------------------------------------------

    @property
    def leading(self) -> bool:
        """Leading, provably: a renewal sent less than the renew deadline ago."""
        renewed = self._renewed_at
        return (
            self.role is Role.LEADING
            and renewed is not None
            and self.clock.monotonic() < renewed + self.timing.renew_deadline
        )

    def check(self, action: str) -> None:
        if not self.leading:
            self._meter.count("gitflink_fenced_writes_total")
            raise NotLeader(f"{self.identity} cannot prove it holds the lease: {action} refused")

    # -- the state machine -----------------------------------------------------------------

    def step(self) -> float:
        """One attempt to acquire or renew; the seconds to wait before the next one."""
        with self._lock:
            sent = self.clock.monotonic()
            try:
                won = self._try(sent)
            except Exception as error:  # the API server is away: the deadline decides
                log.warning("lease not read or written: %s: %s", type(error).__name__, error)
                won = None
            self._settle(won)
            return self._wait()

    def _try(self, sent: float) -> bool:
        found = self.leases.get()
        if found is None:
            now = self.clock.now()
            record = LeaseRecord(self.identity, self._seconds, now, now)
            if self.leases.create(record) is None:
                return False
            self._took(record, sent)
            return True
        record, version = found
        if record != self._observed:
            self._observed, self._observed_at = record, sent
        ours = record.holder == self.identity
        if record.holder and not ours and sent < self._observed_at + self._expiry(record):
            return False  # held, and alive as far as we can tell
        now = self.clock.now()
        if ours:
            new = replace(record, renewed=now, duration_seconds=self._seconds)
        else:
            new = LeaseRecord(self.identity, self._seconds, now, now, record.transitions + 1)
        if self.leases.update(new, version) is None:
            return False
        self._took(new, sent)
        return True

    def _expiry(self, record: LeaseRecord) -> float:
        return float(record.duration_seconds or self.timing.duration)

    @property
    def _seconds(self) -> int:
        return round(self.timing.duration)

    def _took(self, record: LeaseRecord, sent: float) -> None:
        self._observed, self._observed_at, self._renewed_at = record, sent, sent

    def _settle(self, won: bool | None) -> None:
        """`won`: None when the API server could not be asked."""
        holder = self._observed.holder if self._observed is not None else None
        if won:
            self._become(Role.LEADING)
        elif self.role is Role.LEADING:
            if not self.leading or holder not in (None, "", self.identity):
                self._become(Role.STANDBY)  # the deadline passed, or someone else holds it
        elif won is False:
            self._become(Role.STANDBY)

    def _become(self, role: Role) -> None:
        if role is self.role:
            return
        was, self.role = self.role, role
        if role is not Role.LEADING:
            self._renewed_at = None
        if role is Role.LEADING:
            self._meter.count("gitflink_leader_transitions_total", {"change": "acquired"})
        elif was is Role.LEADING:
            self._meter.count("gitflink_leader_transitions_total", {"change": "lost"})
        self._meter.set("gitflink_leader", 1 if role is Role.LEADING else 0)
        holder = self._observed.holder if self._observed else None
        log.info("leader election: %s (%s; lease held by %s)", role, self.identity, holder)
        if self._on_change is not None:
            self._on_change(role)

    def _wait(self) -> float:
        if self.role is Role.LEADING or self._observed is None or not self._observed.holder:
            return self.timing.retry
        # Standing by: try again at the latest when the holder's silence reaches the duration.
        due = self._observed_at + self._expiry(self._observed) - self.clock.monotonic()
        return max(0.0, min(self.timing.retry, due))

    # -- the thread ---------------------------------------------------------------------

    def run(self) -> None:
        """Until `stop()`: attempts every retry period (also while leading: renewals)."""
        while not self._stop.is_set():
            self._stop.wait(self.step())

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leader-election", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def release(self) -> None:
        """Hand the Lease over now (after the last pass): holder cleared, 1 s duration."""
        self.stop()
        with self._lock:
            if not self.leading:
                return
            try:
                found = self.leases.get()
                if found is not None and found[0].holder == self.identity:
                    now = self.clock.now()
                    record = replace(found[0], holder=None, duration_seconds=1, renewed=now)
                    self.leases.update(record, found[1])
            except Exception as error:
                log.warning("lease not released: %s: %s", type(error).__name__, error)
            self._become(Role.STANDBY)
