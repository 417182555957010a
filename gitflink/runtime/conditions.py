"""The `Ready` condition on a resource status, with a transition time that moves only on change."""

from __future__ import annotations

from datetime import datetime

from gitflink.model.status import Condition, ConditionStatus, ResourceStatus

READY = "Ready"


def set_condition(
    status: ResourceStatus, now: datetime, *, ok: bool, reason: str, message: str
) -> None:
    value = ConditionStatus.TRUE if ok else ConditionStatus.FALSE
    previous = next((c for c in status.conditions if c.type == READY), None)
    moved = previous is None or previous.status != value
    condition = Condition(
        type=READY,
        status=value,
        reason=reason,
        message=message,
        last_transition_time=now if moved or previous is None else previous.last_transition_time,
    )
    status.conditions = [c for c in status.conditions if c.type != READY] + [condition]
