"""Live progress of long steps: a rich status display on a terminal, plain log lines otherwise.

Resources run in parallel, so every message names its resource; implementations are thread-safe.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from gitflink.model.ids import ResourceId


class Progress(Protocol):
    def step(self, resource: ResourceId, text: str) -> None:
        """A step starts (or a long wait inside it changes phase)."""
        ...

    def done(self, resource: ResourceId, text: str, *, ok: bool) -> None:
        """The resource finished: `text` is its one-line result."""
        ...


class SilentProgress:
    def step(self, resource: ResourceId, text: str) -> None:
        return None

    def done(self, resource: ResourceId, text: str, *, ok: bool) -> None:
        return None


class LineProgress:
    """One timestamped line per event: for logs, CI and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def _write(self, resource: ResourceId, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        with self._lock:
            self._stream.write(f"{stamp} {resource.short}: {text}\n")
            self._stream.flush()

    def step(self, resource: ResourceId, text: str) -> None:
        self._write(resource, text)

    def done(self, resource: ResourceId, text: str, *, ok: bool) -> None:
        self._write(resource, f"{'done' if ok else 'FAILED'}: {text}")


class LiveProgress:
    """A table redrawn in place: one row per resource with its current step. Use as a context
    manager around the pass; finished rows are also printed once, so they stay in scrollback."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._rows: dict[ResourceId, str] = {}
        self._lock = threading.Lock()
        self._live = Live(self._render(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 2))
        for resource, text in sorted(self._rows.items()):
            table.add_row(f"[cyan]{resource.short}[/]", f"[yellow]…[/] {text}")
        return table

    def step(self, resource: ResourceId, text: str) -> None:
        with self._lock:
            self._rows[resource] = text
            self._live.update(self._render())

    def done(self, resource: ResourceId, text: str, *, ok: bool) -> None:
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        with self._lock:
            self._rows.pop(resource, None)
            self._live.console.print(f"{mark} [cyan]{resource.short}[/] {text}")
            self._live.update(self._render())


def for_stream(stream: TextIO) -> LineProgress | LiveProgress:
    """Rich on a terminal, lines elsewhere. A LiveProgress must be entered (`with`)."""
    if stream.isatty():
        return LiveProgress(Console(file=stream))
    return LineProgress(stream)
