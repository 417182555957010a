"""Identity of a managed resource: kind, namespace, name."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

API_VERSION = "flink.apache.org/v1beta1"
DEFAULT_NAMESPACE = "default"


class Kind(StrEnum):
    FLINK_DEPLOYMENT = "FlinkDeployment"
    FLINK_SESSION_JOB = "FlinkSessionJob"
    FLINK_STATE_SNAPSHOT = "FlinkStateSnapshot"


@dataclass(frozen=True, order=True, slots=True)
class ResourceId:
    kind: Kind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}/{self.namespace}/{self.name}"

    @property
    def short(self) -> str:
        """`namespace/name`, what people call a resource in messages."""
        return f"{self.namespace}/{self.name}"
