"""The in-memory Flink world of the tests (tests/support/fakes.py), for benchmarks.

The fakes live with the tests, in their `support` package (imported as `support.*`, as the
tests' root conftest makes possible), so the tests folder is put on sys.path here rather than
copying them into the package (where they would break the layering).
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.fakes import FakeWorld, Journal, fake_world  # noqa: E402

__all__ = ["FakeWorld", "Journal", "fake_world"]
