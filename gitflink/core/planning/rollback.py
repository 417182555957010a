"""Rollback (docs/rollback.md): a change that does not become stable is rolled back to the last
stable spec, from the state the change started from; Git's spec is then not tried again until
Git asks for another one. A rollback `gitflink rollback --to` recorded is planned the same way.

A change is failing when its job FAILED, when it does not run with every task within the
readiness timeout, or (watched until it ran for the stability window) when it fails or
restarts repeatedly after it was verified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from gitflink.core import diffing
from gitflink.core.planning import healing
from gitflink.core.planning.facts import Facts, JobSpecOwner
from gitflink.core.planning.readiness import readiness_timeout
from gitflink.core.planning.restoring import at
from gitflink.model.fingerprints import PREFIX, spec_digest, unredact
from gitflink.model.plan import (
    WATCHED,
    Action,
    Downtime,
    JobPlan,
    RecordSpec,
    StartCluster,
    Step,
    StopCluster,
    StopJob,
    SubmitJob,
)
from gitflink.model.resources import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    UpgradeMode,
)
from gitflink.model.rollback import ROLLBACK_ENABLED, Rollback, rollback_enabled
from gitflink.model.status import PendingChange

_FAILING = frozenset({"FAILED"})


def desired_spec(facts: Facts) -> dict[str, Any]:
    spec: dict[str, Any] = facts.desired.to_manifest().get("spec", {})
    return spec


def plan(facts: Facts) -> JobPlan | None:
    """The plan when a rollback decides it: a rollback to carry out or finish, Git's spec put
    aside, a failing change reported, or a failing change Git replaced; None otherwise."""
    failure = failing(facts) if facts.wants_running else None
    decided = decide(facts, failure, healing.heal)
    return _rollback(facts, decided) if isinstance(decided, Rollback) else decided


def decide(
    facts: Facts, failure: str | None, heal: Callable[[Facts], JobPlan | None]
) -> JobPlan | Rollback | None:
    """What the rollback record and `failure` (why the change in flight is failing) decide:
    a rollback to carry out (its record), a plan (Git's spec kept aside and the restored spec
    healed by `heal`, the record cleared, a failure reported or replaced), or None."""
    status = facts.status
    record = status.reconciliation.rollback
    pending = status.pending
    if record is not None and pending is not None and pending.action is Action.ROLLBACK:
        return record  # an interrupted rollback is finished first
    if record is not None and record.git_digest == spec_digest(desired_spec(facts)):
        applied = status.reconciliation.last_applied_spec
        if record.spec is not None and not _same(applied, record.spec, facts):
            return record  # `gitflink rollback` recorded it
        return _kept(facts, record, heal)
    if record is not None and not facts.changes and pending is None:
        note = "Git no longer asks for the spec that was rolled back: the rollback is cleared"
        return facts.plan(Action.NONE, (RecordSpec(facts.resource),), notes=(note,))
    if failure is None:
        return None
    if pending is not None and not _same(pending.target_spec, desired_spec(facts), facts):
        return _superseded(facts, failure)
    return _failed(facts, failure)


def annotate(facts: Facts, planned: JobPlan) -> JobPlan:
    """What a new commit does to a resource that was rolled back: it is applied."""
    record = facts.status.reconciliation.rollback
    if record is None or planned.action is Action.ROLLBACK:
        return planned
    note = (
        f"the resource was {state_word(facts)}: this commit's spec differs from the one put aside "
        f"({short(record.git_revision)}), so it is applied"
    )
    return replace(planned, notes=(*planned.notes, note))


def failing(facts: Facts) -> str | None:
    """Why the change in flight, or the change under watch, is not becoming stable."""
    status, job = facts.status, facts.observed.job
    pending = status.pending
    if pending is not None and pending.action in WATCHED:
        submitted = pending.submitted_job_id
        if submitted is None:
            return cluster_down(facts)  # else nothing submitted yet: the change goes on
        ours = job if job is not None and job.job_id == submitted else None
        if ours is not None and ours.state in _FAILING and enabled(facts):
            # Without rollback a failed submission stalls as before (interrupted.py).
            return f"its job {submitted} {ours.state}: {ours.failure or 'no exception reported'}"
        timeout = _late(facts, pending)
        if timeout is None:
            return None
        if ours is not None and ours.is_running and ours.all_vertices_running:
            return None  # ready: the pass adopts and verifies it
        seen = ours.state if ours is not None else "not found"
        return f"its job did not run with every task within {timeout:g}s (it is {seen})"
    if not status.watched or not enabled(facts):
        return None  # rollback turned off meanwhile: a failed job is reported (healing.py)
    if job is None or job.job_id != status.job_status.job_id:
        return None
    if job.state in _FAILING:
        return (
            f"its job {job.job_id} {job.state} within the stability window: "
            f"{job.failure or 'no exception reported'}"
        )
    if job.restarts > facts.healing.restarts_allowed:
        return f"its job {job.job_id} restarted {job.restarts} times within the stability window"
    return None


def cluster_down(facts: Facts) -> str | None:
    """Why a change in flight whose cluster never came up failed, with rollback enabled: its
    last attempt failed (the status holds the error), no JobManager answers, and the readiness
    timeout has passed since it started. Without rollback, or before that, None: the start is
    tried again every pass, as a JobManager pod restarts until it comes up."""
    status = facts.status
    pending = status.pending
    if pending is None or status.error is None or not enabled(facts):
        return None
    if facts.observed.cluster_running:
        return None  # up after all: the change goes on
    timeout = _late(facts, pending)
    if timeout is None:
        return None
    first = status.error.strip().splitlines()[0] if status.error.strip() else "no error"
    return f"its cluster did not come up within {timeout:g}s ({first})"


def _late(facts: Facts, pending: PendingChange) -> float | None:
    """The readiness timeout (seconds) when it has passed since the change became due to be
    ready, else None."""
    timeout = readiness_timeout(facts)
    now, started = facts.healing.now, pending.ready_since
    if now is None or started is None or now - started < timedelta(seconds=timeout):
        return None
    return timeout


def enabled(facts: Facts) -> bool:
    return rollback_enabled(facts.config(ROLLBACK_ENABLED))


def _failed(facts: Facts, failure: str) -> JobPlan | Rollback:
    """Roll back when enabled and a stable spec is known; else report, keeping the restore
    point (the state the change started from) recorded."""
    status = facts.status
    rec = status.reconciliation
    pending = status.pending
    revision = pending.revision if pending is not None else status.applied_revision
    started = rec.upgrade_snapshot.path if rec.upgrade_snapshot is not None else None
    restore = status.job_status.upgrade_savepoint_path or started
    what = f"the change to revision {short(revision)} failed: {failure}"
    stable = rec.last_stable_spec
    why_not = None
    if not enabled(facts):
        why_not = f"{ROLLBACK_ENABLED} is not true"
    elif stable is None:
        why_not = "no stable spec is recorded to roll back to"
    elif restore is None and facts.mode is not UpgradeMode.STATELESS:
        why_not = "no savepoint is recorded for the change to roll back from"
    if why_not is not None:
        kept = f"; its restore point {restore} is kept" if restore else ""
        reason = (
            f"{what}. Not rolled back: {why_not}{kept}. Push a commit that changes the spec "
            "(a fix, or a revert)"
        )
        return facts.plan(Action.BLOCKED, blocked=reason)
    assert stable is not None
    return Rollback(
        git_digest=spec_digest(desired_spec(facts)),
        git_revision=revision,
        reason=what,
        at=facts.healing.now,
        to_revision=rec.last_stable_revision,
        spec=stable,
        restore_point=restore,
    )


def _rollback(facts: Facts, record: Rollback) -> JobPlan:
    """Stop what runs, restart the cluster with the spec restored, submit from the record's
    savepoint. The record rides on the plan and is saved with its intent."""
    target = record.spec or {}
    spec = unredact(target, facts.desired.spec.model_dump(by_alias=True, mode="json"))
    back = restored(facts, spec)
    if isinstance(back, str):
        return facts.plan(Action.BLOCKED, blocked=back)
    # The fields shown are what the rollback changes against what was last applied.
    changes = diffing.diff_specs(facts.deployed, back.spec) if facts.deployed else ()
    rolled = replace(facts, desired=back, changes=changes)
    job = back.spec.job
    stateless = job is None or job.upgrade_mode is UpgradeMode.STATELESS
    if record.restore_point is None and not stateless:
        reason = f"rollback to revision {short(record.to_revision)}: no savepoint recorded"
        return facts.plan(Action.BLOCKED, blocked=reason)
    restore = at(record.restore_point) if record.restore_point and not stateless else None
    allow = bool(job and job.allow_non_restored_state)
    submit = SubmitJob(facts.resource, restore, allow_non_restored_state=allow)
    live, pending = facts.observed.job, facts.status.pending
    submitted = pending.submitted_job_id if pending and pending.action is Action.ROLLBACK else None
    if live is not None and not live.is_terminal and live.job_id == submitted:
        # Interrupted after its submission: verify that job, never submit a second.
        steps: tuple[Step, ...] = (replace(submit, adopt=live.job_id),)
    else:
        steps = _fresh_start(facts, submit)
    risk = (
        f"the job restarts from {record.restore_point}: what it did since is replayed from "
        "its sources"
        if restore is not None
        else "the job restarts with empty state (upgradeMode stateless)"
    )
    note = f"rolls back to the spec of revision {short(record.to_revision)}: {record.reason}"
    return replace(
        rolled.plan(
            Action.ROLLBACK,
            steps,
            downtime=Downtime.RESTART,
            risks=(risk,),
            notes=(note,),
            applies=target,
        ),
        rollback=record,
    )


def restored(facts: Facts, spec: dict[str, Any]) -> FlinkDeployment | FlinkSessionJob | str:
    """The resource as it is rolled back to, or why it cannot be built."""
    if PREFIX in json.dumps(spec):  # a fingerprint, whole or inside a text
        return (
            "the spec to roll back to holds a secret that Git no longer has (only its "
            "fingerprint is recorded): roll forward with a commit instead"
        )
    model: type[JobSpecOwner] = (
        FlinkDeploymentSpec if isinstance(facts.desired, FlinkDeployment) else FlinkSessionJobSpec
    )
    try:
        return facts.desired.model_copy(update={"spec": model.model_validate(spec)})
    except ValidationError as error:
        return f"the spec to roll back to cannot be read ({error.error_count()} errors)"


def _kept(facts: Facts, record: Rollback, heal: Callable[[Facts], JobPlan | None]) -> JobPlan:
    """Git still asks for the spec put aside: the restored spec keeps running (and is healed
    like any other when Flink loses it)."""
    note = (
        f"{state_word(facts)} to the spec of revision {short(record.to_revision)}: "
        f"{record.reason}. Git's spec (revision {short(record.git_revision)}) is not tried "
        "again; the next commit that changes this resource's spec is applied"
    )
    rolled = restored(facts, unredact(record.spec or {}, desired_spec(facts)))
    if isinstance(rolled, str):
        return facts.plan(Action.NONE, notes=(note,))
    healed = heal(replace(facts, desired=rolled, changes=()))
    if healed is None:
        return facts.plan(Action.NONE, notes=(note,))
    return replace(healed, notes=(*healed.notes, note), applies=record.spec, rollback=record)


def _superseded(facts: Facts, failure: str) -> JobPlan:
    """Git moved on while the change was failing: the new spec starts from the state the
    failing change started from; the failing job is cancelled, never adopted."""
    status = facts.status
    restore = status.job_status.upgrade_savepoint_path
    stateless = facts.mode is UpgradeMode.STATELESS
    if restore is None and not stateless:
        return facts.plan(Action.BLOCKED, blocked=f"{failure}; no restore point is recorded")
    steps = _fresh_start(facts, facts.submit(at(restore) if restore and not stateless else None))
    note = f"the failing change is replaced by Git's newer spec ({failure})"
    return facts.plan(Action.UPGRADE, steps, downtime=Downtime.RESTART, notes=(note,))


def _fresh_start(facts: Facts, submit: SubmitJob) -> tuple[Step, ...]:
    """Cancel what runs (its state is the failing spec's), restart the cluster, submit."""
    live = facts.observed.job
    steps: list[Step] = []
    if live is not None and not live.is_terminal:
        steps.append(StopJob(facts.resource, UpgradeMode.STATELESS))
    if facts.is_deployment:
        steps += [StopCluster(facts.resource), StartCluster(facts.resource)]
    return (*steps, submit)


def _same(stored: dict[str, Any] | None, spec: dict[str, Any], facts: Facts) -> bool:
    """Two specs equal as specs (however they were written down), secrets compared through
    their fingerprints."""
    if stored is None:
        return False
    current = facts.desired.spec.model_dump(by_alias=True, mode="json")
    model = type(facts.desired.spec)
    try:
        return model.model_validate(unredact(stored, current)) == model.model_validate(
            unredact(spec, current)
        )
    except ValidationError:
        return False


def state_word(facts: Facts) -> str:
    record = facts.status.reconciliation.rollback
    return "pinned by gitflink rollback" if record is not None and record.manual else "ROLLED_BACK"


def short(revision: str | None) -> str:
    return revision[:8] if revision else "unknown"
