"""`gitflink demo` end to end on real Flink: it upgrades through a savepoint and cleans up."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from gitflink.cli import main

pytestmark = [pytest.mark.flink, pytest.mark.slow]


def test_demo_restores_the_upgrade_from_its_savepoint_and_stops_what_it_started(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = set(Path(tempfile.gettempdir()).glob("gitflink-demo-*"))
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    taken = re.search(r"savepoint taken:\s+(\S+)", out)
    restored = re.search(r"Flink reports restored:\s+(\S+)", out)
    assert taken and restored and taken.group(1) == restored.group(1)
    assert "parallelism now:         [3]" in out
    assert re.search(r"stopped streaming/orders \(pids \[\d+", out)
    # Only new directories count: another demo on this machine may remove its own meanwhile.
    assert set(Path(tempfile.gettempdir()).glob("gitflink-demo-*")) - before == set()
