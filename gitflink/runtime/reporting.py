"""Status from observation alone: a job state Flink reports between plans (a job that failed,
or recovered on its own) is written to the resource's status, so status never claims RUNNING
for a job that is not. Only resources this pass did not act on: the executor reports the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitflink.model.ids import ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import Plan
from gitflink.model.status import LifecycleState, ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime import conditions

_FAILED = frozenset({"FAILED", "FAILING"})


def record_observed(
    ports: Ports,
    plan: Plan,
    statuses: Mapping[ResourceId, ResourceStatus],
    observed: Mapping[ResourceId, Observed],
) -> int:
    """Save each status whose job state Flink now reports differently; the number saved."""
    saved = 0
    for job in plan.jobs:
        status, seen = statuses.get(job.resource), observed.get(job.resource)
        if job.steps or status is None or status.pending is not None or seen is None:
            continue
        live = seen.job
        if live is None or live.job_id != status.job_status.job_id:
            continue
        if live.state == status.job_status.state:
            continue
        now = ports.clock.now()
        status.job_status.state = live.state
        status.job_status.update_time = now
        if live.state in _FAILED:
            status.lifecycle_state = LifecycleState.FAILED
            message = f"Flink reports job {live.job_id} {live.state}"
            conditions.set_condition(status, now, ok=False, reason="JobFailed", message=message)
        elif live.is_running and status.lifecycle_state is LifecycleState.FAILED:
            status.lifecycle_state = LifecycleState.STABLE
            conditions.set_condition(status, now, ok=True, reason="JobRunning", message="")
        ports.status.save(job.resource, status, f"{job.resource.short}: job {live.state}")
        saved += 1
    return saved
