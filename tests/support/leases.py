"""An in-memory Lease for the leader election tests: the API server's optimistic concurrency
(a stale resourceVersion is refused), every write recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitflink.ports import LeaseRecord


@dataclass
class MemoryLease:
    """One Lease with the API server's optimistic concurrency; `down` makes every call fail."""

    record: LeaseRecord | None = None
    version: int = 0
    writes: list[tuple[str, str | None]] = field(default_factory=list)  # (verb, holder)
    down: bool = False

    def get(self) -> tuple[LeaseRecord, str] | None:
        self._reachable()
        return None if self.record is None else (self.record, str(self.version))

    def create(self, record: LeaseRecord) -> str | None:
        self._reachable()
        self.writes.append(("create", record.holder))
        if self.record is not None:
            return None
        return self._store(record)

    def update(self, record: LeaseRecord, version: str) -> str | None:
        self._reachable()
        self.writes.append(("update", record.holder))
        if version != str(self.version):
            return None
        return self._store(record)

    def _store(self, record: LeaseRecord) -> str:
        self.record, self.version = record, self.version + 1
        return str(self.version)

    def _reachable(self) -> None:
        if self.down:
            raise ConnectionError("API server away")
