"""What resource listeners are told (the counterpart of the Flink operator's
FlinkResourceListener contexts): a status that changed, an event, and a revision's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A resource's status as a pass saved it, next to what it was (None: new, or deleted)."""

    resource: ResourceId
    previous: ResourceStatus | None
    status: ResourceStatus | None
    revision: str | None
    at: datetime

    def as_json(self) -> dict[str, Any]:
        def dump(status: ResourceStatus | None) -> dict[str, Any] | None:
            return None if status is None else status.model_dump(mode="json", by_alias=True)

        return {
            "type": "status",
            "resource": _resource(self.resource),
            "revision": self.revision,
            "time": self.at.isoformat(),
            "previous": dump(self.previous),
            "status": dump(self.status),
        }


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """Something a pass did or found for one resource, as a Kubernetes Event would say it."""

    resource: ResourceId
    type: EventType
    reason: str  # the action (Upgrade, Recover ...), Failed or Invalid
    message: str
    revision: str | None
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "event",
            "resource": _resource(self.resource),
            "revision": self.revision,
            "time": self.at.isoformat(),
            "eventType": self.type.value,
            "reason": self.reason,
            "message": self.message,
        }


class RevisionStateKind(StrEnum):
    PENDING = "pending"  # a change at this revision started
    SUCCESS = "success"  # applied, every resource runs as Git says
    FAILURE = "failure"  # something failed, was invalid or does not run


@dataclass(frozen=True, slots=True)
class RevisionState:
    """How applying one Git revision went: what a commit status shows."""

    sha: str
    state: RevisionStateKind
    description: str  # the plan's summary, and what failed
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "revision",
            "revision": self.sha,
            "time": self.at.isoformat(),
            "state": self.state.value,
            "description": self.description,
        }


Notice = StatusChange | ResourceEvent | RevisionState


def _resource(rid: ResourceId) -> dict[str, str]:
    return {"kind": rid.kind.value, "namespace": rid.namespace, "name": rid.name}
