"""StatusStore on local disk: one JSON file per resource under <data_dir>/status/.

Writes are atomic and durable (temp file, fsync, os.replace, fsync of the directory), because the
executor treats a returned `save` as a write-ahead log entry. Values of sensitive Flink keys are
written as fingerprints, never in clear (planning compares them through the fingerprint).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gitflink.model.errors import StatusWriteError
from gitflink.model.fingerprints import fingerprint, is_fingerprint
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import ResourceStatus

SUFFIX = ".json"
# Used when the composition root passes no rule (it passes core.redaction.is_sensitive).
_FALLBACK_TERMS = ("password", "secret", "token", "key", "jaas", "credential", "auth")


def _fallback_is_sensitive(key: str) -> bool:
    return any(term in key.lower() for term in _FALLBACK_TERMS)


class FileStatusStore:
    """`<root>/<Kind>/<namespace>/<name>.json`, each holding the resource id and its status."""

    def __init__(
        self, data_dir: Path, *, is_sensitive: Callable[[str], bool] = _fallback_is_sensitive
    ) -> None:
        self.root = Path(data_dir) / "status"
        self._is_sensitive = is_sensitive

    def path_of(self, resource: ResourceId) -> Path:
        return self.root / resource.kind.value / resource.namespace / f"{resource.name}{SUFFIX}"

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        statuses: dict[ResourceId, ResourceStatus] = {}
        if not self.root.is_dir():
            return statuses
        for path in sorted(self.root.glob(f"*/*/*{SUFFIX}")):
            kind, namespace = path.parent.parent.name, path.parent.name
            if kind not in Kind._value2member_map_:
                continue
            resource = ResourceId(Kind(kind), namespace, path.name.removesuffix(SUFFIX))
            status = self._read(path)
            if status is not None:
                statuses[resource] = status
        return statuses

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        return self._read(self.path_of(resource))

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        document = {
            "resource": str(resource),
            "message": message,
            "status": self._scrub(status.model_dump(mode="json", by_alias=True, exclude_none=True)),
        }
        path = self.path_of(resource)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as error:
            raise StatusWriteError(f"cannot write status of {resource}: {error}") from error

    def delete(self, resource: ResourceId, message: str) -> None:
        path = self.path_of(resource)
        try:
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except FileNotFoundError:
            return
        except OSError as error:
            raise StatusWriteError(f"cannot delete status of {resource}: {error}") from error

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: fingerprint(item, key)
                if isinstance(key, str)
                and isinstance(item, str)
                and self._is_sensitive(key)
                and not is_fingerprint(item)  # already scrubbed (a status loaded back)
                else self._scrub(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._scrub(item) for item in value]
        return value

    def _read(self, path: Path) -> ResourceStatus | None:
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise StatusWriteError(f"unreadable status file {path}: {error}") from error
        try:
            return ResourceStatus.model_validate(document.get("status", {}))
        except ValidationError as error:
            raise StatusWriteError(f"invalid status file {path}: {error}") from error


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
