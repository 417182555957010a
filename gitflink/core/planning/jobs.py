"""Planning rules for a job (application FlinkDeployment or FlinkSessionJob) that Git changes.

Follows the Flink Kubernetes Operator, and goes further: state is never dropped silently. A job
whose state cannot be carried gets a BLOCKED plan that says why (docs/planning.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from gitflink.core.planning import healing, housekeeping, interrupted, restoring, rollback, scaling
from gitflink.core.planning.facts import Facts
from gitflink.core.planning.restarting import CHECKPOINT_NONCE, restart, triggered_snapshots
from gitflink.model.diffkind import DiffKind
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    JobPlan,
    RecordSpec,
    Rescale,
    StartCluster,
    Step,
    StopCluster,
    StopJob,
    TakeSavepoint,
)
from gitflink.model.resources import UpgradeMode

RESTART_NONCES = ("spec.restartNonce",)


def plan_new(facts: Facts) -> JobPlan:
    """First deploy: from initialSavepointPath when set; suspended at first deploy runs nothing.
    A job already running in the resource's own cluster, unknown to this status (its status
    lost, or started by hand), is stopped with a savepoint and its state carried on."""
    if not facts.wants_running:
        note = "job.state is suspended: nothing runs until it is set to running"
        return facts.plan(
            Action.NONE, (RecordSpec(facts.resource),), diff=DiffClass.NEW, notes=(note,)
        )
    stray = facts.observed.stray_jobs if facts.observed.cluster_running else ()
    if stray:
        return _take_over(facts, stray)
    steps: list[Step] = [StartCluster(facts.resource)] if facts.is_deployment else []
    # A takeover interrupted after its stop: the state it recorded, never the empty start.
    recorded = facts.status.job_status.upgrade_savepoint_path
    steps.append(facts.submit(restoring.at(recorded) if recorded else restoring.initial(facts)))
    return facts.plan(Action.DEPLOY, tuple(steps), diff=DiffClass.NEW)


def _take_over(facts: Facts, stray: tuple[str, ...]) -> JobPlan:
    if len(stray) > 1:
        reason = (
            f"jobs {', '.join(stray)} run in the cluster and none is recorded here: stop all "
            "but one (with a savepoint) before gitflink takes the cluster over"
        )
        return facts.plan(Action.BLOCKED, blocked=reason, diff=DiffClass.NEW)
    [job_id] = stray
    stateful = facts.mode is not UpgradeMode.STATELESS
    mode = UpgradeMode.SAVEPOINT if stateful else UpgradeMode.STATELESS
    risk = (
        f"job {job_id} runs in the cluster without a status here (its status lost, or started "
        "by hand): it is stopped"
        + (" with a savepoint, and its state carried into the new job" if stateful else "")
    )
    steps = (
        StopJob(facts.resource, mode, job_id=job_id),
        *facts.cluster_start(),
        facts.submit(restoring.taken() if stateful else None),
    )
    return facts.plan(
        Action.DEPLOY, steps, diff=DiffClass.NEW, downtime=Downtime.RESTART, risks=(risk,)
    )


def plan_existing(facts: Facts) -> JobPlan:
    rolled = rollback.plan(facts)
    if rolled is not None:
        return rolled
    return rollback.annotate(facts, _existing(facts))


def _existing(facts: Facts) -> JobPlan:
    resumed = interrupted.resume(facts)
    if resumed is not None:
        return resumed
    if facts.deployed_job is None:
        return _job_added(facts)
    if facts.was_running and not facts.wants_running:
        return _suspend(facts)
    if not facts.was_running and facts.wants_running:
        return _resume(facts)
    if not facts.wants_running:
        if facts.changes:
            note = "suspended: the change is recorded and applied on resume"
            return facts.plan(Action.NONE, (RecordSpec(facts.resource),), notes=(note,))
        return facts.plan(Action.NONE)
    return _running_to_running(facts)


def upgrade(
    facts: Facts, action: Action, *, risks: Iterable[str] = (), notes: Iterable[str] = ()
) -> JobPlan:
    """Stop per upgradeMode and restore: the heart of every restarting change."""
    return restart(facts, action, restoring.decide(facts), risks=risks, notes=notes)


def _job_added(facts: Facts) -> JobPlan:
    """A session cluster becomes an application: its cluster restarts, the job starts fresh."""
    if not facts.wants_running:
        return facts.plan(Action.NONE, (RecordSpec(facts.resource),))
    risk = "the session cluster restarts: jobs submitted to it outside gitflink stop"
    steps = (
        StopCluster(facts.resource),
        StartCluster(facts.resource),
        facts.submit(restoring.initial(facts)),
    )
    return facts.plan(Action.UPGRADE, steps, downtime=Downtime.RESTART, risks=(risk,))


def _running_to_running(facts: Facts) -> JobPlan:
    kind = facts.kind
    if kind is None:
        return healing.heal(facts) or housekeeping.housekeep(facts) or facts.plan(Action.NONE)
    if kind is DiffKind.SAVEPOINT_REDEPLOY:
        return _redeploy(facts)
    if kind is DiffKind.UPGRADE:
        upgrades = [c.path for c in facts.changes if c.kind is DiffKind.UPGRADE]
        only_restart = all(path in RESTART_NONCES for path in upgrades)
        return upgrade(facts, Action.RESTART if only_restart else Action.UPGRADE)
    if kind is DiffKind.SCALE:
        return _scale(facts)
    return _ignore_only(facts)


def _ignore_only(facts: Facts) -> JobPlan:
    """IGNORE-only: no restart, recorded as applied; trigger nonces take a snapshot only."""
    snapshot = triggered_snapshots(facts)
    if snapshot and facts.live_running:
        action = Action.SAVEPOINT if isinstance(snapshot[0], TakeSavepoint) else Action.CHECKPOINT
        return facts.plan(action, (*snapshot, RecordSpec(facts.resource)))
    risks = ("the job is not running: the requested snapshot cannot be taken",) if snapshot else ()
    return facts.plan(Action.NONE, (RecordSpec(facts.resource),), risks=risks)


def _scale(facts: Facts) -> JobPlan:
    """In place when Flink can do it without losing state; otherwise a full upgrade."""
    found = scaling.in_place(facts, checkpoint_first=facts.nonce_set(CHECKPOINT_NONCE))
    if isinstance(found, scaling.Refusal):
        said = (f"rescale by restart: {found.reason}",)
        if found.state:
            return upgrade(facts, Action.SCALE, risks=said)
        return upgrade(facts, Action.SCALE, notes=said)
    rescales = any(isinstance(step, Rescale) for step in found.steps)
    return facts.plan(
        Action.SCALE,
        (*triggered_snapshots(facts), *found.steps),
        downtime=Downtime.RESCALE if rescales else Downtime.NONE,
        notes=found.notes,
    )


def _redeploy(facts: Facts) -> JobPlan:
    """savepointRedeployNonce: drop the current state on purpose, start from the given path."""
    path = facts.job.initial_savepoint_path if facts.job else None
    if not path:
        reason = "savepointRedeployNonce changed but job.initialSavepointPath is empty"
        return facts.plan(Action.BLOCKED, blocked=reason)
    risk = f"the current state is discarded in favour of the savepoint {path}"
    running = facts.live_running
    stop: list[Step] = [StopJob(facts.resource, UpgradeMode.STATELESS)] if running else []
    around = facts.cluster_restart() if running else facts.cluster_start()
    steps = (*stop, *around, facts.submit(restoring.at(path)))
    return facts.plan(Action.REDEPLOY, steps, downtime=Downtime.RESTART, risks=(risk,))


def _suspend(facts: Facts) -> JobPlan:
    mode = facts.mode
    running = facts.live_running
    steps: list[Step] = []
    risks: list[str] = []
    notes: list[str] = []
    if _stopped_unrecorded(facts):
        # Killed after the stop finished the job, before its savepoint was recorded: the stop
        # step finds that savepoint again (by its trigger id) and records it; never a second.
        notes.append("the interrupted suspend stopped the job: its savepoint is recorded now")
        steps.append(StopJob(facts.resource, mode))
    elif running:
        if mode is UpgradeMode.STATELESS:
            risks.append("upgradeMode is stateless: state is discarded; resume starts empty")
        steps.append(StopJob(facts.resource, mode))
    else:
        notes.append("the job is not running: nothing to stop")
    if facts.is_deployment and (running or facts.observed.cluster_running):
        steps.append(StopCluster(facts.resource))
    if facts.changes:
        notes.append("other changes are recorded and applied on resume")
    return facts.plan(
        Action.SUSPEND,
        tuple(steps) or (RecordSpec(facts.resource),),
        state_loss=running and mode is UpgradeMode.STATELESS,
        downtime=Downtime.RESTART if running else Downtime.NONE,
        risks=risks,
        notes=notes,
    )


def _stopped_unrecorded(facts: Facts) -> bool:
    pending, job = facts.status.pending, facts.observed.job
    if pending is None or job is None or job.state != "FINISHED":
        return False
    recorded = pending.stop_snapshot or facts.status.job_status.upgrade_savepoint_path
    return facts.mode is not UpgradeMode.STATELESS and not recorded


def _resume(facts: Facts) -> JobPlan:
    decision = restoring.resumed(facts)
    return restart(facts, Action.RESUME, decision, downtime=Downtime.NONE)
