"""The readiness timeout of a change (docs/rollback.md): how long its new job may take to run
with every task, per resource (`kubernetes.operator.deployment.readiness.timeout`, else
GITFLINK_READINESS_TIMEOUT). Planning judges it from `pending.startedAt`; the plan carries it so
the steps that wait for the new job give up at the same deadline, not after their own wait."""

from __future__ import annotations

from dataclasses import replace

from gitflink.core.planning.facts import Facts
from gitflink.model.plan import WATCHED, JobPlan
from gitflink.model.rollback import READINESS_TIMEOUT, duration_seconds


def readiness_timeout(facts: Facts) -> float:
    setting = facts.config(READINESS_TIMEOUT)
    seconds = duration_seconds(setting) if setting is not None else None
    return seconds if seconds is not None else facts.healing.readiness_timeout


def timed(facts: Facts, planned: JobPlan) -> JobPlan:
    """A watched change's plan with its readiness timeout; any other plan as it is."""
    if planned.action not in WATCHED:
        return planned
    return replace(planned, ready_within=readiness_timeout(facts))
