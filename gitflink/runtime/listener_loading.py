"""Find resource listener plugins: entry points in the `gitflink.listeners` group, each a class
or factory called with its options (the config file's `listenerOptions.<name>`, else {})."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from gitflink.runtime.notifying import NamedListener

ENTRY_POINT_GROUP = "gitflink.listeners"
METHODS = ("on_status_change", "on_event", "on_revision")


@dataclass(frozen=True, slots=True)
class LoadedListeners:
    listeners: tuple[NamedListener, ...]
    errors: tuple[str, ...]  # one line per entry point that could not be loaded


def load_listeners(
    options: Mapping[str, Mapping[str, Any]] | None = None, group: str = ENTRY_POINT_GROUP
) -> LoadedListeners:
    """Every listener registered under `group`; a broken plugin is reported, never skipped
    silently, and never stops the others."""
    options = options or {}
    listeners: list[NamedListener] = []
    errors: list[str] = []
    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        where = f"{entry_point.name} ({entry_point.value})"
        try:
            factory = entry_point.load()
            listener = factory(dict(options.get(entry_point.name, {})))
        except Exception as exc:
            errors.append(f"{where}: {type(exc).__name__}: {exc}")
            continue
        missing = [m for m in METHODS if not callable(getattr(listener, m, None))]
        if missing:
            errors.append(
                f"{where}: no {', '.join(missing)} (subclass gitflink.ports.ResourceListener)"
            )
            continue
        listeners.append(NamedListener(entry_point.name, listener))
    return LoadedListeners(tuple(listeners), tuple(errors))
