"""What a status store's `load_all` returns: the statuses it could read, and each document it
could not, named by its path, so that one corrupt document holds back only its own resource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus


@dataclass(frozen=True, slots=True)
class CorruptStatus:
    """A status document that could not be read (truncated JSON, broken YAML, a stray path)."""

    path: str  # the file, or the path on the status branch
    reason: str
    resource: ResourceId | None = None  # None: the path names no valid resource

    def __str__(self) -> str:
        return f"status document {self.path}: {self.reason}"


class StatusLoad(Mapping[ResourceId, ResourceStatus]):
    """The readable statuses as a mapping (what every caller iterates), plus `corrupt`."""

    __slots__ = ("_statuses", "corrupt")

    def __init__(
        self,
        statuses: Mapping[ResourceId, ResourceStatus],
        corrupt: Iterable[CorruptStatus] = (),
    ) -> None:
        self._statuses = statuses
        self.corrupt = tuple(corrupt)

    def __getitem__(self, key: ResourceId) -> ResourceStatus:
        return self._statuses[key]

    def __iter__(self) -> Iterator[ResourceId]:
        return iter(self._statuses)

    def __len__(self) -> int:
        return len(self._statuses)


def corrupt_of(loaded: Mapping[ResourceId, ResourceStatus]) -> tuple[CorruptStatus, ...]:
    """The corrupt documents of a `load_all` result (a store may return a plain mapping)."""
    return loaded.corrupt if isinstance(loaded, StatusLoad) else ()
