"""Conditions on a resource status (`Ready`, `Source`): one helper, with a transition time that
moves only when the condition's value does."""

from __future__ import annotations

from datetime import datetime

from gitflink.model.status import Condition, ConditionStatus, ResourceStatus

READY = "Ready"
SOURCE = "Source"  # can the desired state be read from Git?
DRIFT = "Drift"  # does what runs differ from what Git says (a lost cluster, a failed job...)?


def condition(status: ResourceStatus, kind: str) -> Condition | None:
    return next((c for c in status.conditions if c.type == kind), None)


def differs(
    status: ResourceStatus, kind: str, value: ConditionStatus, reason: str, message: str
) -> bool:
    previous = condition(status, kind)
    return previous is None or (previous.status, previous.reason, previous.message) != (
        value,
        reason,
        message,
    )


def set_condition(
    status: ResourceStatus,
    kind: str,
    value: ConditionStatus,
    *,
    reason: str,
    message: str,
    now: datetime,
) -> None:
    previous = condition(status, kind)
    moved = previous is None or previous.status != value
    new = Condition(
        type=kind,
        status=value,
        reason=reason,
        message=message,
        last_transition_time=now if moved or previous is None else previous.last_transition_time,
    )
    status.conditions = [c for c in status.conditions if c.type != kind] + [new]


def ready(ok: bool) -> ConditionStatus:
    return ConditionStatus.TRUE if ok else ConditionStatus.FALSE
