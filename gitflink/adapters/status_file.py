"""StatusStore on local disk: one JSON file per resource under <data_dir>/status/.

Writes are atomic and durable (temp file, fsync, os.replace, fsync of the directory), because the
executor treats a returned `save` as a write-ahead log entry. Secrets (model.secrets) are
written as fingerprints, never in clear. `load_all` parses only files that changed since it last
read them (by inode, mtime, ctime and size), and returns the same object for one that did not.
Only valid ids become paths; a file that cannot be read is reported by `load_all`, not raised.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from pydantic import ValidationError

from gitflink.model.errors import StatusWriteError
from gitflink.model.fingerprints import scrub
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import CorruptStatus, StatusLoad

SUFFIX = ".json"
# A file modified this recently may be rewritten within the same timestamp tick (coarse on most
# filesystems, and NFS stamps with the server's clock) with the same size: not cached until it
# is older, as Git treats "racily clean" index entries.
_RACY_NS = 2_000_000_000
_Stamp = tuple[int, int, int, int]


class FileStatusStore:
    """`<root>/<Kind>/<namespace>/<name>.json`, each holding the resource id and its status."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "status"
        self._parsed: dict[str, tuple[_Stamp, ResourceId, ResourceStatus]] = {}
        self._lock = threading.Lock()
        self.parses = 0  # status files parsed since creation: tests and the benchmark read it

    def path_of(self, resource: ResourceId) -> Path:
        """Raises StatusWriteError for an id that fails validation: it never becomes a path."""
        if not is_valid(resource):
            raise StatusWriteError(f"{resource!r}: not a valid resource id; no status is stored")
        path = self.root / resource.kind.value / resource.namespace / f"{resource.name}{SUFFIX}"
        if os.path.commonpath([str(self.root), os.path.normpath(path)]) != str(self.root):
            raise StatusWriteError(f"{resource!r}: status path leaves {self.root}")
        return path

    def load_all(self) -> StatusLoad:
        """Unchanged files give the objects returned before: mutate one only to save it. A file
        that cannot be read is in `corrupt`, named by its path; the others load as usual."""
        statuses: dict[ResourceId, ResourceStatus] = {}
        corrupt: list[CorruptStatus] = []
        parsed: dict[str, tuple[_Stamp, ResourceId, ResourceStatus]] = {}
        with self._lock:
            known = self._parsed
        # os.scandir and plain strings: at 1,000 resources pathlib alone costs more than the
        # rest of a quiet pass.
        for kind in _entries(str(self.root), dirs=True):
            if kind.name not in Kind._value2member_map_:
                continue
            for namespace in _entries(kind.path, dirs=True):
                for file in _entries(namespace.path, dirs=False):
                    if not file.name.endswith(SUFFIX):
                        continue
                    hit = self._cached(file, known.get(file.path))
                    if hit is not None:
                        statuses[hit[1]], parsed[file.path] = hit[2], hit
                        continue
                    resource = ResourceId(
                        Kind(kind.name), namespace.name, file.name.removesuffix(SUFFIX)
                    )
                    if not is_valid(resource):
                        corrupt.append(CorruptStatus(file.path, "not a valid resource id"))
                        continue
                    try:
                        fresh = self._parse(file)
                    except StatusWriteError as error:
                        reason = _reason(error.__cause__ or error)
                        corrupt.append(CorruptStatus(file.path, reason, resource))
                        continue
                    if fresh is None:
                        continue
                    stamp, status = fresh
                    statuses[resource] = status
                    if stamp is not None:
                        parsed[file.path] = (stamp, resource, status)
        with self._lock:
            self._parsed = parsed
        return StatusLoad(statuses, corrupt)

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        """A fresh object, the caller's own."""
        return self._read(self.path_of(resource))

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        document = {
            "resource": str(resource),
            "message": message,
            "status": scrub(status.model_dump(mode="json", by_alias=True, exclude_none=True)),
        }
        path = self.path_of(resource)
        # Whatever happens, the next load_all reads the file: a caller may have changed the
        # object it loaded before a save that failed.
        self._forget(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as error:
            raise StatusWriteError(f"cannot write status of {resource}: {error}") from error

    def delete(self, resource: ResourceId, message: str) -> None:
        path = self.path_of(resource)
        self._forget(path)
        try:
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except FileNotFoundError:
            return
        except OSError as error:
            raise StatusWriteError(f"cannot delete status of {resource}: {error}") from error

    def _forget(self, path: Path) -> None:
        with self._lock:
            self._parsed.pop(str(path), None)

    @staticmethod
    def _cached(
        file: os.DirEntry[str], known: tuple[_Stamp, ResourceId, ResourceStatus] | None
    ) -> tuple[_Stamp, ResourceId, ResourceStatus] | None:
        if known is None:
            return None
        try:
            stamp = _stamp(file.stat())
        except OSError:
            return None  # gone or unreadable: _parse reports it
        return known if known[0] == stamp else None

    def _parse(self, file: os.DirEntry[str]) -> tuple[_Stamp | None, ResourceStatus] | None:
        """Read and parse; remember the stamp only when the file is old enough to trust it."""
        try:
            info = file.stat()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StatusWriteError(f"unreadable status file {file.path}: {error}") from error
        # Read after the stat: if the file changes in between, the stamp is the older one and
        # the next load reads it again.
        status = self._read(Path(file.path))
        if status is None:
            return None
        trusted = time.time_ns() - info.st_mtime_ns > _RACY_NS
        return (_stamp(info) if trusted else None), status

    def _read(self, path: Path) -> ResourceStatus | None:
        self.parses += 1
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise StatusWriteError(f"unreadable status file {path}: {error}") from error
        except RecursionError:
            raise StatusWriteError(f"unreadable status file {path}: nested too deeply") from None
        try:
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            return ResourceStatus.model_validate(document.get("status", {}))
        except RecursionError:
            raise StatusWriteError(f"invalid status file {path}: nested too deeply") from None
        except (ValidationError, ValueError) as error:
            raise StatusWriteError(f"invalid status file {path}: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
    """One line naming what is wrong, without echoing the document."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "status"
        return f"invalid status: {where}: {first['msg']}"
    return str(error)


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


def _stamp(info: os.stat_result) -> _Stamp:
    # os.replace gives every write a new inode; mtime, ctime and size catch the rest.
    return info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size


def _entries(directory: str, *, dirs: bool) -> list[os.DirEntry[str]]:
    """Sorted entries of `directory` that are directories (or files), hidden ones left out."""
    try:
        with os.scandir(directory) as listing:
            found = [e for e in listing if not e.name.startswith(".") and e.is_dir() == dirs]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda entry: entry.name)
