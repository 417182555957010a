"""Identity of a managed resource: kind, namespace, name, and the rules a valid one follows."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

API_VERSION = "flink.apache.org/v1beta1"
DEFAULT_NAMESPACE = "default"

# Kubernetes' rules, which upstream's validator applies. A FlinkDeployment's name becomes a
# Service (DNS-1035, at most 45 characters to leave room for suffixes); other names are DNS
# subdomains; a namespace is a DNS label. None of them can contain '/', '\\' or '..', so a valid
# id is safe to use as a file or Git path segment (status files, cluster directories).
DEPLOYMENT_NAME = re.compile(r"[a-z]([-a-z0-9]{0,43}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
MAX_NAME = 253


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


def valid_name(kind: Kind, name: str) -> bool:
    if kind is Kind.FLINK_DEPLOYMENT:
        return DEPLOYMENT_NAME.fullmatch(name) is not None
    return len(name) <= MAX_NAME and DNS_SUBDOMAIN.fullmatch(name) is not None


def valid_namespace(namespace: str) -> bool:
    return DNS_LABEL.fullmatch(namespace) is not None


def is_valid(resource: ResourceId) -> bool:
    """Whether `resource` passes validation's naming rules: only such an id becomes a path."""
    return valid_namespace(resource.namespace) and valid_name(resource.kind, resource.name)


def derived_id(*parts: object) -> str:
    """32 hex digits, the shape Flink wants for job and trigger ids, stable for the same parts."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:32]


def job_id_for(resource: ResourceId, generation: int) -> str:
    """The job id of a resource's deployment generation: the executor submits under it, and an
    application cluster is started with it, so a retry recognises the job it already started."""
    return derived_id(resource, generation)
