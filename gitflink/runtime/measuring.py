"""What a pass measures through the `Meter` port: time per stage, the Git fetch (duration and
errors), and from its result the commit age when applied, resources by lifecycle state,
upgrades by mode and outcome, and recoveries. Names: docs/observability.md#metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC

from gitflink.model.errors import SourceError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action, JobPlan
from gitflink.model.status import LifecycleState, ResourceStatus
from gitflink.ports import Ports, Revision
from gitflink.runtime.results import PassResult

log = logging.getLogger(__name__)
STAGE = "gitflink_pass_stage_duration_seconds"
UPGRADES = (Action.UPGRADE, Action.REDEPLOY, Action.SCALE)


@contextmanager
def stage(ports: Ports, name: str) -> Iterator[None]:
    """Time the block as stage `name` (also when it raises)."""
    started = ports.clock.monotonic()
    try:
        yield
    finally:
        ports.meter.observe(STAGE, ports.clock.monotonic() - started, {"stage": name})


def lap(ports: Ports, name: str, since: float) -> float:
    """Observe the time from `since` to now as stage `name`; return now (the next lap's start)."""
    now = ports.clock.monotonic()
    ports.meter.observe(STAGE, now - since, {"stage": name})
    return now


def fetch(ports: Ports) -> Revision:
    """`GitSource.fetch`, timed, its failures counted by error type."""
    assert ports.source is not None
    started = ports.clock.monotonic()
    try:
        return ports.source.fetch()
    except SourceError as error:
        ports.meter.count("gitflink_git_fetch_errors_total", {"error": type(error).__name__})
        raise
    finally:
        elapsed = ports.clock.monotonic() - started
        ports.meter.observe("gitflink_git_fetch_duration_seconds", elapsed)


def measure_pass(
    ports: Ports, result: PassResult, kept: Mapping[ResourceId, ResourceStatus | None]
) -> None:
    """Never raises: a measurement gone wrong is logged, the pass's outcome stands."""
    try:
        _measure(ports, result, kept)
    except Exception as error:
        log.error("pass not measured: %s: %s", type(error).__name__, error)


def _measure(
    ports: Ports, result: PassResult, kept: Mapping[ResourceId, ResourceStatus | None]
) -> None:
    meter = ports.meter
    applied = False
    for execution in result.executions:
        outcome = "ok" if execution.ok else "failed"
        if not execution.ran and execution.ok:
            continue  # planned only (nothing to do, or a recovery backing off)
        applied = applied or execution.ran
        if execution.action in UPGRADES:
            plan = result.plan.for_resource(execution.resource) if result.plan else None
            mode = "in-place" if execution.action is Action.SCALE else _mode(plan)
            meter.count("gitflink_upgrades_total", {"mode": mode, "outcome": outcome})
        elif execution.action is Action.RECOVER:
            meter.count("gitflink_recoveries_total", {"outcome": outcome})
    committed = result.revision.committed_at if result.revision else None
    if applied and committed is not None:
        if committed.tzinfo is None:  # a source that gave local naive time: Git's are UTC
            committed = committed.replace(tzinfo=UTC)
        now = ports.clock.now()
        now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        meter.observe("gitflink_commit_age_seconds", max(0.0, (now - committed).total_seconds()))
    _by_state(ports, kept)


def _mode(plan: JobPlan | None) -> str:
    if plan is None or plan.upgrade_mode is None:
        return "none"
    return str(plan.upgrade_mode.value)


def _by_state(ports: Ports, kept: Mapping[ResourceId, ResourceStatus | None]) -> None:
    """Every state is set, zeros included, so a state that empties does not keep its count."""
    counts = dict.fromkeys(LifecycleState, 0)
    for status in kept.values():
        if status is not None:
            counts[status.lifecycle_state] += 1
    for state, count in counts.items():
        ports.meter.set("gitflink_resources", count, {"state": state.value})
