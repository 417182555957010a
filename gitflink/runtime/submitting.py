"""SubmitJob: run the job under the id of a new deployment generation, then verify it.

The generation (and so the job id) is saved before the submission, so a retry after a crash
finds the job it already submitted instead of starting a second one; Flink refuses reused ids.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from gitflink.core import artifacts
from gitflink.model.artifacts import DEFAULT_POLICY
from gitflink.model.errors import (
    ArtifactRefused,
    FlinkApiError,
    FlinkHttpError,
    GitflinkError,
    Next,
    RestoreFailed,
)
from gitflink.model.flink import CheckpointStats, JobStart, RunRequest
from gitflink.model.ids import Kind, job_id_for
from gitflink.model.plan import RestoreSource, SubmitJob
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import Snapshot, SnapshotKind
from gitflink.ports import FlinkApi
from gitflink.runtime.context import StateAtRisk, StepContext, restored_from
from gitflink.runtime.flinkjobs import TERMINAL, job_state, restore_failure, wait_running


def submit_job(ctx: StepContext, step: SubmitJob) -> str:
    spec = ctx.job_spec()
    job = ctx.status.job_status
    restore = _restore_path(ctx, step)
    if restore != job.upgrade_savepoint_path:
        job.upgrade_savepoint_path = restore
    ctx.ensure_capacity()
    api = ctx.api()
    existing = _submitted_before(ctx, step)
    if existing is None or existing in TERMINAL:
        _refuse_a_second_job(ctx, api)
        job.generation += 1
        job.job_id = job_id_for(ctx.resource, job.generation)
        # A resource deleted and created again restarts at generation 1, but a session cluster
        # remembers the ids it ran and refuses them: skip past every id Flink already knows.
        while job_state(api, job.job_id) is not None:
            job.generation += 1
            job.job_id = job_id_for(ctx.resource, job.generation)
        job.state = None
        job.start_time = job.flink_start_time = None
        job.failed_stops = 0
        if ctx.status.pending is not None:
            ctx.status.pending.submitted_job_id = job.job_id
            ctx.status.pending.generation = job.generation
            ctx.status.pending.submitted_at = ctx.ports.clock.now()
        # The write-ahead point: a retry finds this job by its id instead of starting another.
        ctx.save(f"submitting generation {job.generation} as job {job.job_id}")
        existing = None
    job_id = job.job_id
    assert job_id is not None
    if existing is None or existing == "GONE":
        _run(ctx, spec.jar_uri, step, restore)
        verb = "submitted"
    else:
        verb = "adopted the already submitted"
    api = ctx.api()  # an application start replaces the JobManager, and so its address
    wait_running(ctx, api, job_id, spec.parallelism, restoring=restore, ready_by_deadline=True)
    now = ctx.ports.clock.now()
    job.restored_from = None
    if restore is not None:
        stats = _verify_restore(ctx, job_id, restore)
        kind = SnapshotKind.SAVEPOINT if stats.restored_is_savepoint else SnapshotKind.CHECKPOINT
        job.restored_from = Snapshot(path=restore, kind=kind, taken_at=now, job_id=job_id)
        ctx.record_lineage(job.restored_from, "restored", ctx.revision)
    job.state = "RUNNING"
    job.start_time = job.start_time or now
    job.update_time = now
    job.upgrade_savepoint_path = None  # consumed: the restore is verified
    source = f", restored from {restore}" if restore else " with empty state"
    return f"{verb} job {job_id} (generation {job.generation}){source}"


class AnotherJobRuns(GitflinkError):
    """A job of this resource that this status did not start still runs: one resource has one
    job, so nothing is submitted until a person decides which one is right."""

    next = Next.STALL


def _refuse_a_second_job(ctx: StepContext, api: FlinkApi) -> None:
    """Never start a job while another of the same resource runs in its cluster: any job of an
    application cluster, or a session job's earlier generations (another status store on the
    same clusters, a job started by hand)."""
    job = ctx.status.job_status
    if ctx.resource.kind is Kind.FLINK_DEPLOYMENT:
        mine: set[str] | None = None  # the cluster is the resource's own: every job is its
    else:
        last = max(job.generation, 0) + 16  # ids a resource created again may have skipped to
        mine = {job_id_for(ctx.resource, g) for g in range(1, last + 1)}
    running = [
        summary.job_id
        for summary in api.list_jobs()
        if summary.state not in TERMINAL and (mine is None or summary.job_id in mine)
    ]
    if running:
        raise AnotherJobRuns(
            f"job {running[0]} of {ctx.resource.short} runs in its cluster but is not the one "
            "this status records (another gitflink status store, or a job started by hand?): "
            "refusing to start a second one. Stop it with a savepoint (and point "
            "job.initialSavepointPath at it), or use the status store that started it"
        )


def _submitted_before(ctx: StepContext, step: SubmitJob) -> str | None:
    """The Flink state of a job this change already submitted ("GONE" if Flink lacks it), or
    None when this change has not submitted one yet."""
    job = ctx.status.job_status
    pending = ctx.status.pending
    if job.job_id is None or pending is None or pending.submitted_job_id != job.job_id:
        if step.adopt is not None:
            raise StateAtRisk(
                f"the plan verifies job {step.adopt}, but the status records no such submission"
            )
        return None
    if job.job_id != job_id_for(ctx.resource, job.generation):
        return None
    return job_state(ctx.api(), job.job_id) or "GONE"


def _restore_path(ctx: StepContext, step: SubmitJob) -> str | None:
    job = ctx.status.job_status
    if step.restore is None:
        return None
    match step.restore.source:
        case RestoreSource.PATH:
            return step.restore.path
        case RestoreSource.TAKEN:
            if job.upgrade_savepoint_path is None:
                raise StateAtRisk(
                    "the plan restores from the savepoint taken when stopping, but none is "
                    "recorded: refusing to start with empty state"
                )
            return job.upgrade_savepoint_path
        case RestoreSource.LATEST_CHECKPOINT:
            if job.upgrade_savepoint_path:
                return job.upgrade_savepoint_path
            if job.job_id is not None:
                with contextlib.suppress(FlinkHttpError):
                    latest = ctx.api().checkpoints(job.job_id).latest_completed
                    if latest:
                        return latest
            if job.last_checkpoint is not None:
                return job.last_checkpoint.path
            raise StateAtRisk("no checkpoint is known to restore from")


def _run(ctx: StepContext, jar_uri: str | None, step: SubmitJob, restore: str | None) -> None:
    if not jar_uri:
        raise FlinkApiError(f"{ctx.resource.short}: job.jarURI is not set")
    spec = ctx.job_spec()
    job_id = ctx.status.job_status.job_id
    allow_non_restored = step.allow_non_restored_state or bool(spec.allow_non_restored_state)
    desired = ctx.plan.desired
    if ctx.resource.kind is Kind.FLINK_DEPLOYMENT and isinstance(desired, FlinkDeployment):
        # An application cluster starts its job itself, from the jar in its image.
        start = JobStart(str(job_id), restore, allow_non_restored)
        if ctx.ports.runtime.start_application(
            ctx.resource, desired.spec, start, revision=ctx.revision
        ):
            ctx.say(f"started the application with job {str(job_id)[:8]}")
            return
    api = ctx.api()
    ctx.say(f"submitting job {str(job_id)[:8]}" + (f" from {restore}" if restore else ""))
    jar_id = api.upload_jar(_jar(ctx, jar_uri))
    request = RunRequest(
        entry_class=spec.entry_class,
        args=tuple(spec.args or ()),
        parallelism=spec.parallelism,
        job_id=job_id,
        savepoint_path=restore,
        allow_non_restored_state=allow_non_restored,
    )
    try:
        api.run_jar(jar_id, request)
    except FlinkHttpError as error:
        # A submission that reached Flink before we lost the answer: the job is ours, adopt it.
        if restore is not None and restore_failure(str(error)):
            raise RestoreFailed(f"Flink refused to restore {restore}: {error}") from error
        if "Duplicate" not in str(error):
            raise
    finally:
        with contextlib.suppress(FlinkApiError):
            api.delete_jar(jar_id)


def _jar(ctx: StepContext, jar_uri: str) -> Path:
    """The jar to upload: fetched over https under the agent's policy, else the runtime's own
    (local://, or file:// when the policy allows it). Never a file the policy forbids."""
    source = ctx.ports.artifacts
    refused = artifacts.refusal(jar_uri, source.policy if source else DEFAULT_POLICY)
    if refused:
        raise ArtifactRefused(f"{ctx.resource.short}: job.jarURI: {refused}")
    if urlsplit(jar_uri).scheme.lower() in ("http", "https"):
        if source is None:
            raise ArtifactRefused(f"{ctx.resource.short}: no artifact fetcher is configured")
        ctx.say(f"downloading {jar_uri}")
        return source.fetch(jar_uri)
    return ctx.ports.runtime.resolve_jar(jar_uri)


def _verify_restore(ctx: StepContext, job_id: str, expected: str) -> CheckpointStats:
    api = ctx.api()
    ctx.say(f"checking that job {job_id[:8]} restored {expected}")
    stats = ctx.wait_for(
        "waiting for Flink to report the restored checkpoint",
        lambda: s if (s := api.checkpoints(job_id)).restored else None,
        ctx.timeouts.running,
    )
    if not restored_from(stats.restored, expected, job_id):
        raise StateAtRisk(f"job {job_id} restored {stats.restored}, not {expected}")
    return stats
