"""Rollback of a session cluster (docs/rollback.md): an upgrade whose cluster does not come up
within the readiness timeout (no JobManager answers) is rolled back to the last stable spec, like
an application; its session jobs are brought back from the savepoints their stops took, as the
upgrade brings them back (sessions.restart). The record, `gitflink rollback` and Git's rejected
spec kept aside work as for a job (rollback.decide)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gitflink.core import diffing
from gitflink.core.planning import healing, interrupted, rollback
from gitflink.core.planning.facts import Facts
from gitflink.model.fingerprints import unredact
from gitflink.model.plan import WATCHED, Action, JobPlan
from gitflink.model.rollback import Rollback


@dataclass(frozen=True)
class RollingBack:
    """The cluster as it is rolled back to (its restart is planned by sessions.restart), the
    record saved with the rollback's intent, and what the plan says about it."""

    facts: Facts
    record: Rollback
    note: str


def decide(ctx: Facts) -> JobPlan | RollingBack | None:
    """A rollback to plan, a plan the rollback record decides (Git's spec kept aside, the
    record cleared, a failed upgrade reported without rollback), or None."""
    decided = rollback.decide(ctx, not_ready(ctx), healing.cluster)
    if not isinstance(decided, Rollback):
        return decided
    back = rollback.restored(ctx, unredact(decided.spec or {}, rollback.desired_spec(ctx)))
    if isinstance(back, str):
        return ctx.plan(Action.BLOCKED, blocked=back)
    changes = diffing.diff_specs(ctx.deployed, back.spec) if ctx.deployed else ()
    note = f"rolls back to the spec of revision {rollback.short(decided.to_revision)}: "
    note += decided.reason
    return RollingBack(replace(ctx, desired=back, changes=changes), decided, note)


def not_ready(ctx: Facts) -> str | None:
    """Why the cluster's change in flight failed (rollback.cluster_down), unless Git asks for
    another spec meanwhile: its jobs' own plans go on with that one."""
    pending = ctx.status.pending
    if pending is None or pending.action not in WATCHED or interrupted.moved(ctx, pending):
        return None
    return rollback.cluster_down(ctx)
