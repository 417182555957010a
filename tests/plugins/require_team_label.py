"""Example custom validator: every Flink resource must carry a `team` label.

Registered in a package's metadata as
    [project.entry-points."gitflink.validators"]
    require-team = "require_team_label:require_team_label"
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gitflink.core.parsing import Desired
from gitflink.model.problems import Problem


def require_team_label(desired: Sequence[Desired]) -> Iterator[Problem]:
    for item in desired:
        if "team" not in item.resource.metadata.labels:
            yield item.problem("metadata.labels.team", "every resource needs a 'team' label")
