"""Every upstream operator example plans as new, and planning it against itself changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.upstream_examples import UPSTREAM_EXAMPLES

from gitflink.core import planning
from gitflink.core.parsing import parse_files
from gitflink.core.planning import baseline as planning_baseline
from gitflink.model.plan import Action, Baseline, DiffClass

EXAMPLES = sorted(UPSTREAM_EXAMPLES.rglob("*.y*ml"))


def parsed(path: Path) -> list:
    result = parse_files({path.name: path.read_bytes()})
    return [record for record in result.desired if record.resource.spec is not None]


@pytest.mark.parametrize(
    "path", EXAMPLES, ids=[str(p.relative_to(UPSTREAM_EXAMPLES)) for p in EXAMPLES]
)
def test_upstream_example_plans_as_new_and_as_no_change_against_itself(path: Path) -> None:
    desired = parsed(path)
    first = planning.plan_changes(desired, {})
    assert all(job.diff is DiffClass.NEW for job in first.jobs)
    assert all(job.action is not Action.BLOCKED for job in first.jobs), first.jobs
    observed = planning_baseline.observed_from_revision(r.resource for r in desired)
    again = planning.plan_changes(desired, observed, baseline=Baseline.REVISION)
    assert [(job.action, job.diff, job.steps) for job in again.jobs] == [
        (Action.NONE, DiffClass.NONE, ())
    ] * len(desired)


def test_the_examples_hold_flink_resources() -> None:
    assert sum(len(parsed(path)) for path in EXAMPLES) >= 20
