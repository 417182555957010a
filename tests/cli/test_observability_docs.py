"""docs/observability.md lists exactly the metrics the agent's registry exposes."""

from __future__ import annotations

import re
from pathlib import Path

from gitflink.agent.metrics import Metrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def documented() -> set[str]:
    names = set()
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `(gitflink_[a-z_]+)` \| (counter|gauge|histogram) \|", line)
        if match:
            names.add(match[1])
    return names


def test_every_exposed_metric_is_documented_and_nothing_else() -> None:
    assert Metrics().exposed() == documented()


def test_the_agent_serves_them_all_on_metrics() -> None:
    from prometheus_client import generate_latest

    text = generate_latest(Metrics().registry).decode()
    types = set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE))
    for name in documented():
        assert name in types or name.removesuffix("_total") in types, name
