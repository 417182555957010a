"""Listeners implementing the ResourceListener port for tests: one that records, one that
raises, one that hangs until released."""

from __future__ import annotations

import threading

from gitflink.model.notifications import Notice, ResourceEvent, RevisionState, StatusChange
from gitflink.ports import ResourceListener


class RecordingListener(ResourceListener):
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def on_status_change(self, change: StatusChange) -> None:
        self.notices.append(change)

    def on_event(self, event: ResourceEvent) -> None:
        self.notices.append(event)

    def on_revision(self, state: RevisionState) -> None:
        self.notices.append(state)

    def of(self, kind: type) -> list[Notice]:
        return [n for n in self.notices if isinstance(n, kind)]


class RaisingListener(ResourceListener):
    def on_status_change(self, change: StatusChange) -> None:
        raise RuntimeError("listener bug")


class HangingListener(ResourceListener):
    """Blocks every call until `release` is set (a remote that never answers)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def on_status_change(self, change: StatusChange) -> None:
        self.calls += 1
        self.release.wait(30)
