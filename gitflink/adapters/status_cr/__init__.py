"""StatusStore as custom resources (`--status cr`): each resource gitflink manages is applied as
its FlinkDeployment / FlinkSessionJob / FlinkStateSnapshot (server-side apply, field manager
`gitflink`; spec from Git, labels `app.kubernetes.io/managed-by: gitflink` and
`gitflink.io/instance: <this gitflink>`, annotation
`gitflink.io/revision`), and its status is written through the status subresource with
optimistic locking: the PUT carries the resourceVersion read, and a 409 is re-read and retried.

`.status` holds the operator's fields (what `kubectl get flinkdeployments` shows) and, under
`.status.gitflink`, gitflink's whole record, the only part read back (shape.py). A write returns
once the API server has stored it (etcd), so a returned `save` is a durable write-ahead entry.
Custom resources without both labels are never written, deleted or read as status.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, TypeVar

from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from gitflink.adapters.status_cr.shape import (
    INSTANCE,
    MANAGED_BY,
    MANAGER,
    cr_status,
    custom_resource,
    is_managed,
    revision_of,
    spec_of,
    status_of,
)
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.requests import keep_requests
from gitflink.model.secrets import hide_in_text
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import CorruptStatus, StatusLoad

MANAGED = f"{MANAGED_BY}={MANAGER}"
T = TypeVar("T")


class Kube(Protocol):
    """What the store needs from the API server (the Kubernetes runtime's KubeRequests)."""

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def list_all(self, kind: str, selector: str) -> list[dict[str, Any]]: ...

    def list_objects(
        self, kind: str, namespace: str, selector: str = ""
    ) -> list[dict[str, Any]]: ...

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]: ...

    def replace_status(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, kind: str, namespace: str, name: str) -> bool: ...


class CrStatusStore:
    def __init__(
        self,
        kube: Kube,
        instance: str | None,
        *,
        conflict_attempts: int = 10,
        namespaces: tuple[str, ...] = (),
    ) -> None:
        """`instance`: this gitflink's label value (`wiring` derives it from the source); None
        reads every gitflink's status and writes none (`gitflink status`). `namespaces`: list
        custom resources only there (GITFLINK_NAMESPACES, the Helm chart's namespaced Roles);
        empty: cluster-wide."""
        self._kube, self._instance, self._namespaces = kube, instance, namespaces
        self._selector = MANAGED if instance is None else f"{MANAGED},{INSTANCE}={instance}"
        self._attempts = conflict_attempts
        self._lock = threading.Lock()
        # What this store's load_all read (a pass's start) or it last wrote, per resource: a
        # request another writer makes after that is kept by the next save (model.requests).
        self._known: dict[ResourceId, ResourceStatus] = {}
        self.conflicts = 0  # 409s answered to status writes and retried: tests read it

    def load_all(self) -> StatusLoad:
        found = self._load()
        with self._lock:
            self._known = dict(found)
        return found

    def refresh(self) -> bool:
        """Whether another writer requested something (`gitflink rollback`, `gitflink
        savepoint`) since this store last read or wrote the status: the agent then plans, even
        when Git has not moved since a converged pass. Reads, remembers nothing."""
        found = self._load()
        with self._lock:
            known = dict(self._known)
        return any(
            keep_requests(known[rid], status, known[rid]) is not known[rid]
            for rid, status in found.items()
            if rid in known
        )

    def _load(self) -> StatusLoad:
        statuses: dict[ResourceId, ResourceStatus] = {}
        corrupt: list[CorruptStatus] = []
        for kind in Kind:
            for obj in self._list(kind):
                if not is_managed(obj, self._instance):
                    continue
                meta = obj.get("metadata") or {}
                resource = ResourceId(kind, meta.get("namespace", ""), meta.get("name", ""))
                path = f"{kind.value}/{resource.namespace}/{resource.name}"
                try:
                    status = status_of(obj)
                except (ValidationError, ValueError) as error:
                    corrupt.append(CorruptStatus(path, _reason(error), resource))
                    continue
                if status is not None:
                    statuses[resource] = status
        return StatusLoad(statuses, corrupt)

    def instances(self) -> dict[str, list[ResourceId]]:
        """Each gitflink instance label found on managed custom resources (within the store's
        namespaces) and the resources it keeps: `gitflink plan --status cr` picks one."""
        found: dict[str, list[ResourceId]] = {}
        for kind in Kind:
            for obj in self._list(kind):
                meta = obj.get("metadata") or {}
                if is_managed(obj, self._instance):
                    label = (meta.get("labels") or {}).get(INSTANCE, "")
                    rid = ResourceId(kind, meta.get("namespace", ""), meta.get("name", ""))
                    found.setdefault(label, []).append(rid)
        return found

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        obj = self._read(resource)
        if obj is None or not is_managed(obj, self._instance):
            return None
        return _status_of(resource, obj)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        instance = self._writer()
        current = self._managed(resource)
        spec = spec_of(status)
        if spec is None:
            # Nothing applied now (a delete, a deleted resource's tombstone): keep the spec the
            # object has, so applying never drops it.
            if current is None:
                raise StatusWriteError(
                    f"{resource}: no spec recorded yet, so no custom resource to write its "
                    "status to (it is created with the first change gitflink applies)"
                )
            spec = current.get("spec") or {}
        ours = status
        if current is not None:
            with contextlib.suppress(StatusWriteError), self._lock:
                base = self._known.get(resource)
                status = keep_requests(base, _status_of(resource, current), status)
        obj = custom_resource(resource, spec, revision_of(status), instance)
        applied = self._call(lambda: self._kube.apply(obj), resource.kind)
        self._write_status(resource, applied, cr_status(resource.kind, status))
        with self._lock:
            # What the agent's pass knows: a request kept for it is news until a pass reads it.
            self._known[resource] = ours

    def update(
        self,
        resource: ResourceId,
        change: Callable[[ResourceStatus | None], ResourceStatus],
        message: str,
    ) -> None:
        """Read, change and write one resource's status with optimistic locking, for another
        writer than the agent (`gitflink rollback`): the write carries the resourceVersion
        read; a 409 is re-read and `change` called again. Any gitflink's custom resource is
        written (the agent of its instance carries the request out); its spec is left as is."""
        for _ in range(self._attempts):
            obj = self._read(resource)
            if obj is None or not is_managed(obj):
                raise StatusWriteError(f"{resource}: no custom resource managed by gitflink")
            status = change(_status_of(resource, obj))
            meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
            body = {**obj, "metadata": meta, "status": cr_status(resource.kind, status)}
            try:
                self._call(partial(self._kube.replace_status, body), resource.kind)
                return
            except _Conflict:
                with self._lock:
                    self.conflicts += 1
        raise StatusWriteError(
            f"cannot write status of {resource}: {self._attempts} conflicts in a row"
        )

    def delete(self, resource: ResourceId, message: str) -> None:
        self._writer()
        if self._managed(resource) is None:
            return
        kind = resource.kind
        self._call(lambda: self._kube.delete(kind.value, resource.namespace, resource.name), kind)

    def _write_status(
        self, resource: ResourceId, obj: dict[str, Any], status: dict[str, Any]
    ) -> None:
        for _ in range(self._attempts):
            # managedFields left out: the server keeps them as they are.
            meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
            body = {**obj, "metadata": meta, "status": status}
            try:
                self._call(partial(self._kube.replace_status, body), resource.kind)
                return
            except _Conflict:
                with self._lock:
                    self.conflicts += 1
            fresh = self._managed(resource)
            if fresh is None:
                raise StatusWriteError(f"{resource}: its custom resource was deleted meanwhile")
            obj = fresh
        raise StatusWriteError(
            f"cannot write status of {resource}: {self._attempts} conflicts in a row"
        )

    def _writer(self) -> str:
        if self._instance is None:
            raise StatusWriteError("a status store reading every gitflink's status writes none")
        return self._instance

    def _managed(self, resource: ResourceId) -> dict[str, Any] | None:
        """The custom resource, None when there is none; raises for one gitflink does not
        manage (no management label): it is never touched."""
        obj = self._read(resource)
        if obj is not None and not is_managed(obj, self._instance):
            raise StatusWriteError(
                f"{resource}: its custom resource has no labels {self._selector}: not managed by "
                "this gitflink, left alone"
            )
        return obj

    def _list(self, kind: Kind) -> list[dict[str, Any]]:
        if not self._namespaces:
            return self._call(lambda: self._kube.list_all(kind.value, self._selector), kind)
        found: list[dict[str, Any]] = []
        for namespace in self._namespaces:
            found += self._call(
                partial(self._kube.list_objects, kind.value, namespace, self._selector), kind
            )
        return found

    def _read(self, resource: ResourceId) -> dict[str, Any] | None:
        if not is_valid(resource):
            raise StatusWriteError(f"{resource!r}: not a valid resource id; no status is stored")
        kind = resource.kind
        return self._call(
            lambda: self._kube.get(kind.value, resource.namespace, resource.name), kind
        )

    def _call(self, request: Callable[[], T], kind: Kind) -> T:
        try:
            return request()
        except ApiException as error:
            if error.status == 409:
                raise _Conflict() from None
            if error.status == 404:
                raise StatusWriteError(
                    f"the API server does not serve {kind.value} (install schemas/crds/ "
                    "for --status cr)"
                ) from None
            raise StatusWriteError(
                f"{kind.value} status: API server answered {error.status} {error.reason}: "
                f"{_server_message(error)}"
            ) from None


def _status_of(resource: ResourceId, obj: dict[str, Any]) -> ResourceStatus | None:
    try:
        return status_of(obj)
    except (ValidationError, ValueError) as error:
        raise StatusWriteError(f"invalid status of {resource}: {_reason(error)}") from None


class _Conflict(StatusWriteError):
    """A status write raced another writer: re-read and retry."""


def _server_message(error: ApiException) -> str:
    try:
        message = str(json.loads(error.body or "{}").get("message") or "")
    except (ValueError, AttributeError):
        message = ""
    return hide_in_text(message, lambda _: "******")


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "status"
        return f"invalid status: {where}: {first['msg']}"
    return str(error)
