"""Requests to the API server through the official client, for any object as a dict: server-side
apply (field manager `gitflink`), read, list and delete, with the retry rules: 409 re-read and
retried once, 429/503 retried with capped, jittered backoff honouring Retry-After."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes.client as k8s
from kubernetes.client.exceptions import ApiException

from gitflink.model.errors import ClusterError
from gitflink.ports import Clock, Fence

T = TypeVar("T")
FIELD_MANAGER = "gitflink"
# kind -> (API path prefix, plural): the kinds gitflink renders and observes.
KINDS = {
    "ConfigMap": ("api/v1", "configmaps"),
    "Secret": ("api/v1", "secrets"),
    "Service": ("api/v1", "services"),
    "ServiceAccount": ("api/v1", "serviceaccounts"),
    "Pod": ("api/v1", "pods"),
    "Event": ("api/v1", "events"),
    "Deployment": ("apis/apps/v1", "deployments"),
    "Role": ("apis/rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": ("apis/rbac.authorization.k8s.io/v1", "rolebindings"),
    "Ingress": ("apis/networking.k8s.io/v1", "ingresses"),
    # The custom resources CR status mode writes (adapters/status_cr).
    "FlinkDeployment": ("apis/flink.apache.org/v1beta1", "flinkdeployments"),
    "FlinkSessionJob": ("apis/flink.apache.org/v1beta1", "flinksessionjobs"),
    "FlinkStateSnapshot": ("apis/flink.apache.org/v1beta1", "flinkstatesnapshots"),
}
RETRIED = {429, 503}


class KubeRequests:
    def __init__(
        self,
        client: k8s.ApiClient,
        clock: Clock,
        *,
        attempts: int = 6,
        base_delay: float = 0.2,
        max_delay: float = 10.0,
        rng: Callable[[], float] = random.random,
        fence: Fence | None = None,
    ) -> None:
        """`fence`: asked before every write (apply, delete), also between the writes of one
        runtime call (leader election, runtime.fencing)."""
        self._client, self._clock, self._fence = client, clock, fence
        self._attempts = attempts
        self._base: float = base_delay
        self._max: float = max_delay
        self._rng = rng

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._call("GET", _path(kind, namespace, name))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def list_objects(self, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        query = [("labelSelector", selector)] if selector else []
        items = self._call("GET", _path(kind, namespace), query=query).get("items") or []
        return [dict(item) for item in items]

    def list_all(self, kind: str, selector: str) -> list[dict[str, Any]]:
        """Objects of `kind` in every namespace the credentials may list."""
        prefix, plural = KINDS[kind]
        found = self._call("GET", f"/{prefix}/{plural}", query=[("labelSelector", selector)])
        return [dict(item) for item in found.get("items") or []]

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply of `obj` (forced: gitflink owns what it renders)."""
        meta = obj["metadata"]
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        path = _path(obj["kind"], meta["namespace"], meta["name"])
        write = None if dry_run else f"apply {obj['kind']} {meta['namespace']}/{meta['name']}"
        return self._call(
            "PATCH",
            path,
            query=query,
            body=obj,
            content_type="application/apply-patch+yaml",
            write=write,
        )

    def replace_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT `obj` to its status subresource. `obj` carries the resourceVersion it was read
        at: a 409 means someone wrote since and is raised at once, for the caller to re-read."""
        meta = obj["metadata"]
        path = _path(obj["kind"], meta["namespace"], meta["name"]) + "/status"
        query = [("fieldManager", FIELD_MANAGER)]
        write = f"write the status of {obj['kind']} {meta['namespace']}/{meta['name']}"
        return self._call("PUT", path, query=query, body=obj, conflicts=0, write=write)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """POST a new object (an Event)."""
        path = _path(obj["kind"], obj["metadata"]["namespace"])
        query = [("fieldManager", FIELD_MANAGER)]
        return self._call("POST", path, query=query, body=obj, write=f"create a {obj['kind']}")

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        """Delete in the background (the garbage collector removes what it owns); False when it
        was gone already, which is success."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            write = f"delete {kind} {namespace}/{name}"
            self._call("DELETE", _path(kind, namespace, name), body=body, write=write)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        write: str | None = None,
        conflicts: int = 1,
    ) -> dict[str, Any]:
        """`write`: what a mutating request does, for the fence, asked before every attempt
        (a retry after a backoff may come after the lease is lost)."""

        def send() -> dict[str, Any]:
            if write is not None and self._fence is not None:
                self._fence.check(write)
            # Raw: the client's deserialisation parameters differ between its major versions,
            # and every object here is a plain dict anyway.
            response = self._client.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _preload_content=False,
                _request_timeout=30,
            )
            decoded = json.loads(response.data or b"{}")
            return decoded if isinstance(decoded, dict) else {}

        return self._retrying(send, conflicts)

    def _retrying(self, send: Callable[[], T], conflicts: int = 1) -> T:
        """`conflicts`: how many 409s to send again as they are."""
        for attempt in range(self._attempts):
            try:
                return send()
            except ApiException as error:
                if error.status == 409 and conflicts > 0:
                    # Someone wrote in between (a controller's status update): apply and
                    # delete carry no resourceVersion, so sending again is the re-read.
                    conflicts -= 1
                    continue
                if error.status not in RETRIED or attempt == self._attempts - 1:
                    raise
                self._clock.sleep(self._delay(attempt, error))
        raise ClusterError("unreachable: the retry loop always returns or raises")

    def _delay(self, attempt: int, error: ApiException) -> float:
        capped: float = min(self._max, self._base * 2**attempt)
        jittered: float = capped * (0.5 + self._rng() / 2)
        retry_after: str | None = (error.headers or {}).get("Retry-After")
        if retry_after is not None:
            try:
                return min(self._max, max(float(retry_after), jittered))
            except ValueError:
                pass
        return jittered


def _path(kind: str, namespace: str, name: str | None = None) -> str:
    prefix, plural = KINDS[kind]
    path = f"/{prefix}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path
