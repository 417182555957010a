"""The Leases port on one coordination.k8s.io/v1 Lease, through the official client: reads, and
create / replace with the resourceVersion read (the API server refuses a stale one with 409,
which is how two agents never both win)."""

from __future__ import annotations

from datetime import UTC, datetime

import kubernetes.client as k8s
from kubernetes.client.exceptions import ApiException

from gitflink.ports import LeaseRecord

TIMEOUT = 5  # seconds per request: well inside the 2 s retry / 10 s renew deadline rhythm


class KubernetesLeases:
    def __init__(self, client: k8s.ApiClient, namespace: str, name: str) -> None:
        self._api = k8s.CoordinationV1Api(client)
        self.namespace, self.name = namespace, name

    def get(self) -> tuple[LeaseRecord, str] | None:
        try:
            lease = self._api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=TIMEOUT
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        spec = lease.spec or k8s.V1LeaseSpec()
        record = LeaseRecord(
            holder=spec.holder_identity or None,
            duration_seconds=spec.lease_duration_seconds or 0,
            acquired=spec.acquire_time,
            renewed=spec.renew_time,
            transitions=spec.lease_transitions or 0,
        )
        return record, lease.metadata.resource_version

    def create(self, record: LeaseRecord) -> str | None:
        body = k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(name=self.name, namespace=self.namespace),
            spec=_spec(record),
        )
        try:
            created = self._api.create_namespaced_lease(
                self.namespace, body, _request_timeout=TIMEOUT
            )
        except ApiException as error:
            if error.status == 409:
                return None
            raise
        return str(created.metadata.resource_version)

    def update(self, record: LeaseRecord, version: str) -> str | None:
        body = k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(
                name=self.name, namespace=self.namespace, resource_version=version
            ),
            spec=_spec(record),
        )
        try:
            replaced = self._api.replace_namespaced_lease(
                self.name, self.namespace, body, _request_timeout=TIMEOUT
            )
        except ApiException as error:
            if error.status == 409:
                return None
            raise
        return str(replaced.metadata.resource_version)


def _spec(record: LeaseRecord) -> k8s.V1LeaseSpec:
    return k8s.V1LeaseSpec(
        holder_identity=record.holder,
        lease_duration_seconds=record.duration_seconds,
        acquire_time=_micro(record.acquired),
        renew_time=_micro(record.renewed),
        lease_transitions=record.transitions,
    )


def _micro(at: datetime | None) -> str | None:
    """A MicroTime as the API server parses it: always six fraction digits (isoformat drops
    them when they are zero), in UTC."""
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
