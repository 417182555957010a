"""StartCluster, StopCluster, Rescale and AwaitJob: the cluster around a job, and its size."""

from __future__ import annotations

from gitflink.model.errors import ClusterError, FlinkApiError, GitflinkError, NotReady
from gitflink.model.plan import AwaitJob, Rescale, StartCluster, StopCluster
from gitflink.model.resources import FlinkDeployment
from gitflink.runtime.context import StepContext
from gitflink.runtime.flinkjobs import wait_running

START_RETRY = 2.0  # seconds between attempts to start a cluster within a readiness deadline


def start_cluster(ctx: StepContext, step: StartCluster) -> str:
    desired = ctx.plan.desired
    if not isinstance(desired, FlinkDeployment):
        raise GitflinkError(f"{step.target.short}: only a FlinkDeployment has a cluster")
    ctx.say("starting the Flink cluster")
    while True:
        try:
            handle = ctx.ports.runtime.ensure_cluster(
                step.target, desired.spec, revision=ctx.revision
            )
            return f"cluster up at {handle.rest_url}"
        except ClusterError as error:
            # A watched change tries again until its readiness deadline, as a JobManager pod
            # restarts until then, and then gives up for the pass to roll it back.
            left = ctx.readiness_left()
            if left is None:
                raise
            if left <= 0:
                raise NotReady(
                    f"the Flink cluster did not come up within the readiness timeout "
                    f"({ctx.plan.ready_within:g}s): {error}"
                ) from error
            ctx.say(f"the Flink cluster did not start, trying again: {str(error).splitlines()[0]}")
            ctx.ports.clock.sleep(min(START_RETRY, left))


def stop_cluster(ctx: StepContext, step: StopCluster) -> str:
    ctx.say("stopping the Flink cluster")
    ctx.ports.runtime.delete_cluster(step.target, keep_ha=step.keep_ha)
    ctx.status.job_status.state = None
    return "cluster stopped"


def rescale(ctx: StepContext, step: Rescale) -> str:
    job_id = ctx.status.job_status.job_id
    if job_id is None:
        raise FlinkApiError(f"{ctx.resource.short}: no job recorded to rescale")
    api = ctx.api()
    # Flink 1.x restarts a rescaled job from the latest checkpoint and, with none yet, from
    # nothing. The planner plans a full upgrade then; this guard covers a plan made on stale
    # observations (a checkpoint that expired in between).
    if api.overview().major_minor < (2, 0) and api.checkpoints(job_id).latest_completed is None:
        # Transient: the next pass observes no checkpoint and plans a full upgrade instead.
        raise GitflinkError(
            f"job {job_id} has no checkpoint yet: rescaling in place on Flink 1.x would lose "
            "its state; the next pass upgrades it per upgradeMode instead"
        )
    ctx.ensure_capacity()
    vertices = api.resource_requirements(job_id)
    ctx.say(f"rescaling job {job_id[:8]} to parallelism {step.parallelism}")
    api.set_parallelism(job_id, dict.fromkeys(vertices, step.parallelism))
    wait_running(ctx, api, job_id, step.parallelism)
    ctx.status.job_status.update_time = ctx.ports.clock.now()
    return f"rescaled job {job_id} in place to parallelism {step.parallelism}"


def await_job(ctx: StepContext, step: AwaitJob) -> str:
    """Flink restarts a job by itself once lost TaskManagers are back: wait, never resubmit."""
    job_id = ctx.status.job_status.job_id
    if job_id is None:
        raise FlinkApiError(f"{step.target.short}: no job recorded to wait for")
    wait_running(ctx, ctx.api(), job_id, None)
    ctx.status.job_status.state = "RUNNING"
    ctx.status.job_status.update_time = ctx.ports.clock.now()
    return f"job {job_id} runs again with all its tasks"
