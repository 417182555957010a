"""The last plan and what it was made from, so that a quiet pass does not plan again."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from gitflink.core import planning
from gitflink.model.ids import ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import Plan
from gitflink.runtime.reading import Manifests


class PlanMemo:
    """The last plan and what it was made from. Planning is pure, so the same manifests (the
    reader returns the same object for an unchanged revision) and equal observations give the
    same plan: a quiet pass does not plan every resource again. Observations are compared
    status by identity first: a caching status store returns the same object for a status that
    did not change, so the deep comparison runs only for stores that do not cache."""

    def __init__(self) -> None:
        self._last: tuple[Manifests, _Inputs, Plan] | None = None
        self._lock = threading.Lock()
        self.plans = 0  # plans computed (not reused): tests and the benchmark read it

    def plan(
        self,
        manifests: Manifests,
        observed: Mapping[ResourceId, Observed],
        *,
        prune: bool,
        head: str,
        known_files: Mapping[ResourceId, str],
    ) -> Plan:
        inputs = (dict(observed), prune, head, dict(known_files))
        with self._lock:
            last = self._last
            if last is not None and last[0] is manifests and _same_inputs(last[1], inputs):
                return last[2]
        plan = planning.plan_changes(
            manifests.parsed.desired,
            observed,
            prune=prune,
            problems=manifests.problems,
            head=head,
            known_files=known_files,
        )
        with self._lock:
            self._last = (manifests, inputs, plan)
            self.plans += 1
        return plan


_Inputs = tuple[dict[ResourceId, Observed], bool, str, dict[ResourceId, str]]


def _same_inputs(last: _Inputs, now: _Inputs) -> bool:
    if last[1:] != now[1:]:
        return False
    before, after = last[0], now[0]
    if before.keys() != after.keys():
        return False
    for rid, seen in after.items():
        was = before[rid]
        if seen is was:
            continue
        if (seen.job, seen.cluster_running, seen.flink_version) != (
            was.job,
            was.cluster_running,
            was.flink_version,
        ):
            return False
        if seen.status is not was.status and seen.status != was.status:
            return False
    return True
