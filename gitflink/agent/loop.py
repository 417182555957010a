"""The agent's loop: one pass at a time, every `interval` seconds (the `schedule` library) and
at once when woken (webhook). Stopping lets the pass in flight finish, then flushes status.
`not_ready()` is what /readyz answers: no pass yet, a pass that could not run, or status
documents the store could not read. With leader election, a standby is ready (it has read the
Lease and waits), the leader by the same rules as a lone agent; a pass that cannot prove it
leads (NotLeader) is not a failure: it is counted as `standby` and the loop waits."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import schedule

from gitflink.agent.metrics import Metrics
from gitflink.model.errors import NotLeader
from gitflink.runtime.election import Elector, Role
from gitflink.runtime.reconciler import PassResult

__all__ = ["Loop", "Metrics"]

log = logging.getLogger("gitflink.agent")


class Loop:
    """Runs `run_pass` on a schedule and on `wake()`. Wake-ups during a pass coalesce into one
    follow-up pass; `stop()` (SIGTERM) ends the loop after the pass in flight."""

    def __init__(
        self,
        run_pass: Callable[[], object],
        *,
        interval: float = 30.0,
        after_pass: Callable[[], None] | None = None,
        metrics: Metrics | None = None,
        elector: Elector | None = None,
    ) -> None:
        self._run_pass = run_pass
        self.elector = elector
        self._after_pass = after_pass
        self.metrics = metrics or Metrics()
        self.interval = interval
        self._scheduler = schedule.Scheduler()
        # schedule is typed for int but builds a timedelta, so fractional seconds work.
        self._scheduler.every(interval).seconds.do(self.wake, "interval")  # type: ignore[arg-type]
        self._woken = threading.Event()
        self._reasons: list[str] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.passes = 0
        self.last_error: str | None = None
        self.unreadable: tuple[str, ...] = ()  # corrupt status documents of the last pass
        self.running = False

    def wake(self, reason: str = "manual") -> None:
        with self._lock:
            self._reasons.append(reason)
        self._woken.set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def not_ready(self) -> str | None:
        """None when ready to serve; else why not, one reason per line."""
        if self.elector is not None:
            if self.elector.role is Role.UNKNOWN:
                return "leader election: the Lease could not be read yet"
            if not self.elector.leading:
                return None  # standing by
        if self.passes == 0:
            return "no pass has finished yet"
        if self.last_error is not None:
            return f"last pass failed: {self.last_error}"
        return "\n".join(self.unreadable) or None

    def run(self) -> None:
        """Block until `stop()`: an immediate first pass, then scheduled and woken passes."""
        self.running = True
        self.wake("start")
        try:
            while not self._stopping.is_set():
                idle = self._scheduler.idle_seconds
                timeout = 1.0 if idle is None else max(0.0, min(idle, 1.0))
                if self._woken.wait(timeout):
                    self._woken.clear()
                    if self._stopping.is_set():
                        break
                    self._one_pass()
                self._scheduler.run_pending()
        finally:
            self.running = False
            self._finish()

    def _one_pass(self) -> None:
        with self._lock:
            reasons, self._reasons = sorted(set(self._reasons)), []
        for reason in reasons:
            self.metrics.wakeups.labels(reason=reason).inc()
        started, ran = time.monotonic(), True
        try:
            result = self._run_pass()
        except NotLeader as error:
            # Standing by, or the lease was lost during the pass: nothing more was written.
            log.debug("no pass: %s", error)
            self.metrics.passes.labels(result="standby").inc()
            ran = False
        except Exception as error:
            # A pass reports resource errors in status itself; an escaping error means the
            # pass could not run at all. Keep the loop alive: the next pass retries.
            self.last_error = f"{type(error).__name__}: {error}"
            self.metrics.passes.labels(result="error").inc()
            # One line, though git's stderr in the message often spans several.
            log.error("pass failed: %s", " ".join(self.last_error.split()))
        else:
            self.last_error = None
            # A quiet pass may have stopped after fetching: it still carries the last findings.
            corrupt = result.corrupt if isinstance(result, PassResult) else ()
            self.unreadable = tuple(str(c) for c in corrupt)
            self.metrics.unreadable.set(len(self.unreadable))
            self.metrics.passes.labels(result="ok").inc()
            self.metrics.last_success.set(time.time())
        finally:
            self.passes += ran
            self.metrics.duration.observe(time.monotonic() - started)
            self._flush()

    def _flush(self) -> None:
        if self._after_pass is None:
            return
        try:
            self._after_pass()
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}"
            log.error("status flush failed: %s", self.last_error)

    def _finish(self) -> None:
        log.info("agent stopping after %d passes", self.passes)
        self._flush()
