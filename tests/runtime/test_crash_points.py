"""The crash matrix covers every effect only if every port method is classified as one or as a
read (tests/support/crash_points.py): a new method fails here until it is."""

from __future__ import annotations

import inspect

import pytest
from support.crash_points import EFFECTS, READS, CrashPoints

from gitflink import ports


@pytest.mark.parametrize("port", sorted(EFFECTS))
def test_every_port_method_is_an_effect_or_a_read(port: str) -> None:
    protocol = getattr(ports, port)
    methods = {name for name, _ in inspect.getmembers(protocol) if not name.startswith("_")}
    assert EFFECTS[port] & READS[port] == set()
    assert methods == EFFECTS[port] | READS[port]


def test_a_point_after_an_effect_is_crossed_only_when_time_passes() -> None:
    names: list[str] = []
    points = CrashPoints(None, say=names.append)
    points.call("save(intent)", True, lambda: None)
    points.call("stop()", True, lambda: None)  # right after the save: one point, not two
    points.call("poll()", False, lambda: None)
    points.call("poll()", False, lambda: None)
    points.call("save(savepoint)", True, lambda: None)
    assert names == [
        "crash point 1: before save(intent)",
        "crash point 2: before stop()",
        "crash point 3: after stop()",
        "crash point 4: before save(savepoint)",
    ]
