"""After a crash: finish a change whose job was already submitted, before planning again.

Planning compares the desired spec with the last applied one; a job submitted for a pending
change but not yet verified would look like an outdated deployment and be upgraded a second
time. So the pass first verifies such a job and records the change as applied.
"""

from __future__ import annotations

from gitflink.model.errors import ClusterError, GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action, DiffClass, JobPlan
from gitflink.model.status import ResourceStatus, SnapshotKind, StepOutcome
from gitflink.ports import Ports
from gitflink.runtime.context import StepContext, Timeouts, derived_id, job_id_for, restored_from
from gitflink.runtime.executor import Execution, succeed
from gitflink.runtime.flinkjobs import TERMINAL, completed_savepoint, job_state, wait_running
from gitflink.runtime.progress import Progress
from gitflink.runtime.stopping import record_stop_snapshot
from gitflink.runtime.submitting import SUBMIT_MARK

STEP = "finish the interrupted submission"


def recover_stop_savepoint(
    ports: Ports,
    resource: ResourceId,
    status: ResourceStatus,
    *,
    progress: Progress,
    timeouts: Timeouts,
) -> ResourceStatus | None:
    """A stop-with-savepoint that completed before the status recorded its savepoint: find it
    (by the stop's derived trigger id, else Flink's checkpoint statistics) and record it, so
    planning restores from it instead of taking (or missing) another. None if nothing to do."""
    pending, job = status.pending, status.job_status
    if pending is None or job.job_id is None or job.upgrade_savepoint_path:
        return None
    plan = JobPlan(resource=resource, action=Action.UPGRADE, diff=DiffClass.NONE)
    ctx = StepContext(
        ports, plan, status.model_copy(deep=True), pending.revision, progress, timeouts
    )
    try:
        api = ctx.api()
        if job_state(api, job.job_id) != "FINISHED":  # only a stop finishes an endless job
            return None
        trigger_id = derived_id(resource, job.job_id, "stop")
        path = completed_savepoint(api, job.job_id, trigger_id)
        path = path or api.checkpoints(job.job_id).latest_savepoint
    except GitflinkError:
        return None
    if path is None:
        return None
    ctx.say(f"found savepoint {path} of the stop that was interrupted")
    record_stop_snapshot(ctx, path, SnapshotKind.SAVEPOINT, job.job_id)
    ctx.status.job_status.state = "FINISHED"
    ctx.save(f"savepoint {path} found after an interrupted stop")
    return ctx.status


def finish_interrupted(
    ports: Ports,
    resource: ResourceId,
    status: ResourceStatus,
    *,
    progress: Progress,
    timeouts: Timeouts,
) -> Execution | None:
    """Verify and record a submitted-but-unverified job; None when there is none to finish."""
    pending, job = status.pending, status.job_status
    if pending is None or job.job_id is None:
        return None
    if job.job_id != job_id_for(resource, job.generation):
        return None
    if f"{SUBMIT_MARK}{job.job_id}" not in pending.completed_steps:
        return None
    try:
        action = Action(pending.action)
    except ValueError:
        action = Action.UPGRADE
    plan = JobPlan(resource=resource, action=action, diff=DiffClass.NONE)
    ctx = StepContext(
        ports, plan, status.model_copy(deep=True), pending.revision, progress, timeouts
    )
    try:
        api = ctx.api()
        state = job_state(api, job.job_id)
    except (ClusterError, GitflinkError):
        return None
    if state is None or state in TERMINAL:
        return None  # not running: planning decides what to do next
    job_id, expected = job.job_id, job.upgrade_savepoint_path
    parallelism = (pending.target_spec.get("job") or {}).get("parallelism")
    ctx.say(f"found job {job_id[:8]} submitted before an interruption: verifying it")
    wait_running(ctx, api, job_id, parallelism if isinstance(parallelism, int) else None)
    restored = api.checkpoints(job_id).restored
    if expected is not None and not restored_from(restored, expected, job_id):
        return None  # planning sees the mismatch through the status and Flink
    now = ports.clock.now()
    ctx.status.job_status.state = "RUNNING"
    ctx.status.job_status.update_time = now
    ctx.status.job_status.upgrade_savepoint_path = None
    detail = f"job {job_id} was running" + (f", restored from {expected}" if expected else "")
    outcome = StepOutcome(step=STEP, ok=True, detail=detail, at=now)
    return succeed(ctx, [outcome], dict(pending.target_spec))
