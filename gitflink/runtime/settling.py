"""When a pass may stop right after fetching: Git has not moved since a pass that found
everything converged, and the next drift check is not due.

Like Flux's source interval versus its reconcile interval: a webhook or poll that brings no new
revision costs about one `git ls-remote`, while running jobs are still checked against Git
every `drift_interval` seconds (and after every new revision, and after any pass that did or
failed to do something).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from gitflink.model.plan import Action
from gitflink.ports import Revision
from gitflink.runtime.results import PassResult


@dataclass
class Settled:
    """The last converged pass. `drift_interval` None: every pass observes (sync, tests)."""

    drift_interval: float | None = None
    _last: tuple[str, float, PassResult] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reuse(self, revision: Revision, now: float) -> PassResult | None:
        """The last converged result, marked unobserved, when Git has not moved since and the
        drift check is not due; else None (observe and plan)."""
        with self._lock:
            last = self._last
        if self.drift_interval is None or last is None:
            return None
        sha, at, result = last
        if sha != revision.sha or now - at >= self.drift_interval:
            return None
        return replace(result, observed=False)

    def forget(self) -> None:
        """The next pass observes and plans whatever Git says (the status changed meanwhile)."""
        with self._lock:
            self._last = None

    def record(self, result: PassResult, now: float) -> None:
        """Remember `result` if it found everything converged: nothing to do, nothing failed."""
        revision = result.revision
        # A corrupt status document is never "converged": each pass looks again until fixed.
        converged = (
            result.error is None
            and not result.corrupt
            and not result.unhealthy  # a failed or recovering job is looked at every pass
            and all(e.ok and e.action is Action.NONE and not e.outcomes for e in result.executions)
        )
        with self._lock:
            self._last = (revision.sha, now, result) if converged and revision else None
