"""The steps of a decided restart (restoring.JobUpgrade): stop the job when it runs, the cluster
around it, submit it; snapshots requested by trigger nonces on the way."""

from __future__ import annotations

from collections.abc import Iterable

from gitflink.core.planning.facts import Facts
from gitflink.core.planning.restoring import JobUpgrade
from gitflink.model.plan import (
    Action,
    Downtime,
    JobPlan,
    Step,
    StopJob,
    TakeCheckpoint,
    TakeSavepoint,
)
from gitflink.model.resources import UpgradeMode

SAVEPOINT_NONCE = "spec.job.savepointTriggerNonce"
CHECKPOINT_NONCE = "spec.job.checkpointTriggerNonce"


def restart(
    facts: Facts,
    action: Action,
    decision: JobUpgrade,
    *,
    risks: Iterable[str] = (),
    notes: Iterable[str] = (),
    downtime: Downtime = Downtime.RESTART,
) -> JobPlan:
    """The steps of a decided restart: stop (when the job runs), the cluster around it, submit."""
    risks = (*risks, *decision.risks)
    if decision.blocked is not None:
        return facts.plan(
            Action.BLOCKED,
            blocked=decision.blocked,
            risks=risks,
            notes=(*notes, f"{action} cannot proceed"),
        )
    steps: list[Step]
    if decision.stop is not None:
        steps = [*_snapshots_unless(facts, decision.stop), StopJob(facts.resource, decision.stop)]
        steps += facts.cluster_restart()
    else:
        steps = list(facts.cluster_start())
    steps.append(facts.submit(decision.restore))
    return facts.plan(
        action,
        tuple(steps),
        mode=decision.mode,
        state_loss=decision.state_loss,
        downtime=downtime,
        risks=risks,
        notes=notes,
    )


def triggered_snapshots(facts: Facts) -> tuple[Step, ...]:
    steps: list[Step] = []
    if facts.nonce_set(SAVEPOINT_NONCE):
        steps.append(TakeSavepoint(facts.resource))
    if facts.nonce_set(CHECKPOINT_NONCE):
        steps.append(TakeCheckpoint(facts.resource))
    return tuple(steps)


def _snapshots_unless(facts: Facts, mode: UpgradeMode) -> tuple[Step, ...]:
    """A requested savepoint is already covered by a stop-with-savepoint."""
    return tuple(
        step
        for step in triggered_snapshots(facts)
        if not (isinstance(step, TakeSavepoint) and mode is UpgradeMode.SAVEPOINT)
    )
