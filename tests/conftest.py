"""Test rooms mirror the code: unit (pure core and model), runtime (a pass on the fakes),
adapters (each adapter against the real thing it wraps), cli (commands as a user runs them),
flink (real Flink JVMs). Shared fakes and builders live in the `support` package."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOMS = ("unit", "runtime", "adapters", "cli", "flink")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/flink/ runs real Flink: marked so `make test-fast` leaves it out."""
    root = Path(__file__).parent
    for item in items:
        room = Path(item.path).relative_to(root).parts[0]
        if room == "flink":
            item.add_marker(pytest.mark.flink)
