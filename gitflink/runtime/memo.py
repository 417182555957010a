"""The last plan and what it was made from, so that a quiet pass does not plan again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

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


K = TypeVar("K")
V = TypeVar("V")
_Inputs = tuple[dict[ResourceId, Observed], bool, str, dict[ResourceId, str]]


def _same_inputs(last: _Inputs, now: _Inputs) -> bool:
    """Equal inputs, checked in the order they were built (the same on a quiet pass, the same
    id objects too), so 1,000 resources cost no hashing; another order falls back to keys."""
    if last[1:3] != now[1:3] or not _same_dict(last[3], now[3], _equal):
        return False
    return _same_dict(last[0], now[0], _same_observed)


def _same_dict(before: Mapping[K, V], after: Mapping[K, V], same: Callable[[V, V], bool]) -> bool:
    if len(before) != len(after):
        return False
    for (was_key, was), (key, value) in zip(before.items(), after.items(), strict=True):
        if was_key is not key and was_key != key:
            return _same_by_key(before, after, same)
        if value is not was and not same(was, value):
            return False
    return True


def _same_by_key(before: Mapping[K, V], after: Mapping[K, V], same: Callable[[V, V], bool]) -> bool:
    if before.keys() != after.keys():
        return False
    return all(same(before[key], value) for key, value in after.items())


def _equal(was: V, value: V) -> bool:
    return bool(was == value)


def _same_observed(was: Observed, seen: Observed) -> bool:
    if (seen.job, seen.cluster_running, seen.flink_version) != (
        was.job,
        was.cluster_running,
        was.flink_version,
    ):
        return False
    # A caching status store returns the same object for an unchanged status.
    return seen.status is was.status or seen.status == was.status
