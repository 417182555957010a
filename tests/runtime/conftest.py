"""A reconciliation pass on the fakes of tests/support (ports implemented in memory)."""

from __future__ import annotations

import pytest
from support.fakes import FakeWorld, fake_world


@pytest.fixture
def world() -> FakeWorld:
    """A fresh fake world: Git source, Flink runtime and REST, status store, clock."""
    return fake_world()
