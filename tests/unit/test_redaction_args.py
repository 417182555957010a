"""Secrets passed on a job's command line (`--db-password x`, `--api-token=x`) are hidden in
every diff and plan rendering, like secret configuration values."""

from __future__ import annotations

import pytest
from support.planning_builders import Record, deployment, status

from gitflink.core import diffing, redaction
from gitflink.core.plan_rendering import render_json, render_markdown, render_text
from gitflink.core.planning import plan_changes
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import FlinkDeployment

OLD, NEW = "old-canary-pw", "new-canary-pw"


def with_args(*args: str) -> FlinkDeployment:
    return deployment("savepoint", args=list(args))


@pytest.mark.parametrize(
    ("args", "hidden"),
    [
        (["--db-password", "x", "--rate", "5"], [1]),
        (["--api-token=x", "--keys", "64"], [0]),
        (["-secret", "x"], [1]),
        # Whatever follows a sensitive flag is hidden: a value may start with a dash too.
        (["--password", "--rate", "5"], [1]),
        (["--keys", "64", "--counter-uid", "c"], []),
    ],
)
def test_secret_arguments_are_recognised(args: list[str], hidden: list[int]) -> None:
    assert [i for i in range(len(args)) if redaction.secret_arg(args, i)] == hidden


def test_changed_secret_argument_never_shows_either_value() -> None:
    before = with_args("--db-password", OLD, "--rate", "5")
    after = with_args("--db-password", NEW, "--rate", "6")
    changes = diffing.diff_specs(before.spec, after.spec)
    shown = repr(changes)
    assert OLD not in shown and NEW not in shown
    (change,) = changes
    assert change.path == "spec.job.args"
    assert change.before == ["--db-password", redaction.HIDDEN, "--rate", "5"]
    assert change.after == ["--db-password", redaction.HIDDEN, "--rate", "6"]


def test_inline_secret_argument_keeps_its_flag_visible() -> None:
    before, after = with_args(f"--api-token={OLD}"), with_args(f"--api-token={NEW}", "--x")
    plan = plan_changes(
        [Record(after)],
        {after.id: Observed(status(before), cluster_running=True, job=LiveJob("j", "RUNNING"))},
    )
    for render in (render_text, render_markdown, render_json):
        text = render(plan)
        assert OLD not in text and NEW not in text, render.__name__
    assert f"--api-token={redaction.HIDDEN}" in render_text(plan)
