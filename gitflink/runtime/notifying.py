"""Tells resource listeners what a pass did, without ever letting one break it: each listener
gets the pass's notices in its own thread, bounded by a time limit; one that raises or hangs is
logged and counted (`gitflink_listener_failures_total`), and one still stuck in an earlier
delivery is skipped until it returns, so hung threads never pile up. With a fence (the agent's
leader election), nothing is told unless this agent can prove it leads: a leader that woke after
losing its lease never sends a commit status over the new leader's."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from gitflink.model.notifications import Notice, ResourceEvent, RevisionState, StatusChange
from gitflink.ports import NULL_METER, Fence, Meter, ResourceListener
from gitflink.runtime.notices import RevisionStates

log = logging.getLogger(__name__)
FAILURES = "gitflink_listener_failures_total"


@dataclass
class NamedListener:
    name: str
    listener: ResourceListener
    _thread: threading.Thread | None = field(default=None, repr=False)


class Notifier:
    """The listeners of a process (kept across passes, like the reader)."""

    def __init__(
        self,
        listeners: Sequence[NamedListener] = (),
        *,
        timeout: float = 10.0,
        meter: Meter = NULL_METER,
        fence: Fence | None = None,
    ) -> None:
        self.listeners = tuple(listeners)
        self.timeout = timeout
        self.meter = meter
        self.fence = fence
        self.failures: dict[tuple[str, str], int] = {}  # (listener, why) -> count
        self.revisions = RevisionStates()  # what commit statuses were told, per revision
        self._lock = threading.Lock()

    def deliver(self, notices: Sequence[Notice]) -> None:
        """Hand `notices` to every listener; return once all are done or the time is up.
        Raises NotLeader, telling nothing, when the fence says this agent does not lead."""
        if not notices or not self.listeners:
            return
        if self.fence is not None:
            self.fence.check("tell the listeners")
        started: list[NamedListener] = []
        for named in self.listeners:
            if named._thread is not None and named._thread.is_alive():
                self._failed(named.name, "busy", "still stuck in an earlier delivery: skipped")
                continue
            named._thread = threading.Thread(
                target=self._run, args=(named, tuple(notices)), daemon=True
            )
            named._thread.name = f"gitflink-listener-{named.name}"
            named._thread.start()
            started.append(named)
        deadline = time.monotonic() + self.timeout
        for named in started:
            assert named._thread is not None
            named._thread.join(max(0.0, deadline - time.monotonic()))
            if named._thread.is_alive():
                self._failed(named.name, "timeout", f"did not return within {self.timeout:g} s")

    def _run(self, named: NamedListener, notices: tuple[Notice, ...]) -> None:
        for notice in notices:
            try:
                match notice:
                    case StatusChange():
                        named.listener.on_status_change(notice)
                    case ResourceEvent():
                        named.listener.on_event(notice)
                    case RevisionState():
                        named.listener.on_revision(notice)
            except Exception as error:
                self._failed(named.name, "error", f"raised {type(error).__name__}: {error}")

    def failed_to_load(self, message: str) -> None:
        """A plugin that could not be loaded: logged and counted like a failing listener."""
        self._failed(message.split(" ", 1)[0], "load", f"could not be loaded: {message}")

    def _failed(self, name: str, why: str, message: str) -> None:
        with self._lock:
            self.failures[(name, why)] = self.failures.get((name, why), 0) + 1
        self.meter.count(FAILURES, {"listener": name, "reason": why})
        log.error("listener %s %s", name, message, extra={"listener": name})
