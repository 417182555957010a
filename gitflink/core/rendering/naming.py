"""Names, labels and ownership of the Kubernetes objects of one FlinkDeployment.

Names follow the Flink Kubernetes Operator's (`<name>`, `<name>-rest`, `flink-config-<name>`),
so dashboards and runbooks written for it keep working; labels add gitflink's provenance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gitflink.model.resources import FlinkDeployment

MAIN_CONTAINER = "flink-main-container"  # the name upstream pod templates use
CONFIG_VOLUME = "flink-config-volume"
CONF_DIR = "/opt/flink/conf"
REST_PORT, RPC_PORT, BLOB_PORT, TM_RPC_PORT = 8081, 6123, 6124, 6122
MANAGED_BY = "app.kubernetes.io/managed-by"
RESOURCE_LABEL = "gitflink.io/resource"
DIGEST_LABEL = "gitflink.io/spec-digest"
REVISION_LABEL = "gitflink.io/revision"
CONFIG_DIGEST = "gitflink.io/config-digest"
LABEL_VALUE_MAX = 63


def rest_service(name: str) -> str:
    return f"{name}-rest"


def config_map(name: str) -> str:
    # Native mode requires exactly this name: Flink mounts it into the TaskManagers it creates.
    return f"flink-config-{name}"


def taskmanager(name: str) -> str:
    return f"{name}-taskmanager"


def digest(value: Any) -> str:
    """16 hex digits of a canonical JSON form: stable across runs, short enough for a label."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def spec_digest(deployment: FlinkDeployment) -> str:
    return digest(deployment.spec.model_dump(by_alias=True, mode="json", exclude_none=True))


def selector(name: str, component: str, native: bool) -> dict[str, str]:
    """The pod labels Services and Deployments select on; the same as upstream's and Flink's own
    (native Flink labels its TaskManager pods this way)."""
    kind = "flink-native-kubernetes" if native else "flink-standalone"
    return {"app": name, "component": component, "type": kind}


def object_labels(deployment: FlinkDeployment, revision: str | None) -> dict[str, str]:
    """Labels of every top-level object. Never on pod templates: a new Git revision must not
    restart pods whose configuration did not change."""
    labels = {
        "app": deployment.metadata.name,
        MANAGED_BY: "gitflink",
        RESOURCE_LABEL: deployment.metadata.name,
        DIGEST_LABEL: spec_digest(deployment),
    }
    if revision:
        labels[REVISION_LABEL] = revision[:LABEL_VALUE_MAX]
    return labels


@dataclass(frozen=True, slots=True)
class Owner:
    """The object whose deletion removes the others (the garbage collector follows
    ownerReferences): the JobManager Deployment, or the FlinkDeployment custom resource."""

    api_version: str
    kind: str
    name: str
    uid: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def owned(objects: tuple[dict[str, Any], ...], owner: Owner) -> tuple[dict[str, Any], ...]:
    """`objects` with `owner` as their controller, except the owner itself."""
    result = []
    for obj in objects:
        if obj["kind"] == owner.kind and obj["metadata"]["name"] == owner.name:
            result.append(obj)
            continue
        metadata = {**obj["metadata"], "ownerReferences": [owner.reference()]}
        result.append({**obj, "metadata": metadata})
    return tuple(result)
