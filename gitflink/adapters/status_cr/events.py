"""Kubernetes Events on the custom resources (CR status mode): what a pass did to a resource
(upgrade, suspend, recover, failed, invalid) and each lifecycle change, as `kubectl describe`
and `kubectl get events` show them. Secrets in messages are hidden; a resource without its
custom resource (or not managed by gitflink) gets none."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol

from kubernetes.client.exceptions import ApiException

from gitflink.adapters.status_cr.shape import is_managed
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import API_VERSION, ResourceId
from gitflink.model.notifications import EventType, ResourceEvent, StatusChange
from gitflink.model.secrets import hide_in_text
from gitflink.ports import ResourceListener

COMPONENT = "gitflink"
_MESSAGE_LIMIT = 1024  # Events are notes, not logs: the API server caps them too


class EventKube(Protocol):
    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...


class KubernetesEvents(ResourceListener):
    def __init__(self, kube: EventKube) -> None:
        self._kube = kube

    def on_event(self, event: ResourceEvent) -> None:
        self._post(event.resource, event.type, event.reason, event.message, event.at)

    def on_status_change(self, change: StatusChange) -> None:
        before = change.previous.lifecycle_state if change.previous is not None else None
        after = change.status.lifecycle_state if change.status is not None else None
        if after is None or before == after:
            return
        job = change.status.job_status.state if change.status is not None else None
        text = f"lifecycle state {before.value if before else 'new'} -> {after.value}"
        if job:
            text += f", job {job}"
        if change.revision:
            text += f" (revision {change.revision[:7]})"
        self._post(change.resource, EventType.NORMAL, "StatusChanged", text, change.at)

    def _post(
        self, resource: ResourceId, type_: EventType, reason: str, message: str, at: datetime
    ) -> None:
        try:
            target = self._kube.get(resource.kind.value, resource.namespace, resource.name)
        except ApiException as error:
            raise StatusWriteError(f"event for {resource}: {error.status}") from None
        if target is None or not is_managed(target):
            return
        meta = target["metadata"]
        text = hide_in_text(message, lambda _: "******")[:_MESSAGE_LIMIT]
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hashlib.sha256(f"{reason}:{text}:{stamp}".encode()).hexdigest()[:10]
        self._kube.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{resource.name}.{digest}", "namespace": resource.namespace},
                "involvedObject": {
                    "apiVersion": API_VERSION,
                    "kind": resource.kind.value,
                    "name": resource.name,
                    "namespace": resource.namespace,
                    "uid": meta.get("uid"),
                    "resourceVersion": meta.get("resourceVersion"),
                },
                "type": type_.value,
                "reason": reason,
                "message": text,
                "source": {"component": COMPONENT},
                "reportingComponent": COMPONENT,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
            }
        )
