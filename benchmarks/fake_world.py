"""The in-memory Flink world of the tests (tests/fakes.py, tests/fake_flink.py), for benchmarks,
and a lean in-memory status store.

The fakes live with the tests and import each other as top-level modules (`from fake_flink
import ...`, as pytest's rootdir-relative imports do), so the tests folder is put on sys.path
here rather than copying them into the package (where they would break the layering).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from fakes import FakeWorld, Journal, fake_world  # noqa: E402

__all__ = ["FakeWorld", "Journal", "MemoryStatusStore", "fake_world"]


class MemoryStatusStore:
    """One JSON document per resource, as a real store keeps it. Unlike the tests' store it
    keeps no history of saves, so memory measured with it is the agent's own."""

    def __init__(self) -> None:
        self._data: dict[ResourceId, str] = {}
        self._lock = threading.Lock()

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        with self._lock:
            data = dict(self._data)
        return {rid: ResourceStatus.model_validate_json(raw) for rid, raw in data.items()}

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        raw = self._data.get(resource)
        return None if raw is None else ResourceStatus.model_validate_json(raw)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        with self._lock:
            self._data[resource] = status.model_dump_json(by_alias=True)

    def delete(self, resource: ResourceId, message: str) -> None:
        with self._lock:
            self._data.pop(resource, None)
