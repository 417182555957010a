"""A simulated Flink cluster behind the FlinkApi port, with the REST quirks gitflink must survive:
RUNNING before the vertices are, duplicate job ids refused, savepoint 'COMPLETED' that failed."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from gitflink.model.errors import FlinkHttpError, FlinkUnreachable
from gitflink.model.flink import (
    AsyncOperation,
    CheckpointStats,
    ClusterOverview,
    JobDetails,
    JobExceptions,
    JobSummary,
    OperationState,
    RunRequest,
    Vertex,
    VertexMetric,
)

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
_STARTS = itertools.count(1)


def _next_start() -> datetime:
    """Each run of a job starts later than the one before (Flink's `start-time`)."""
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(_STARTS))


class Recorder(Protocol):
    def add(self, *event: str) -> None: ...


@dataclass
class FakeJob:
    job_id: str
    name: str
    state: str
    parallelism: int
    restored: str | None = None
    polls_until_running: int = 0
    checkpoints: list[str] = field(default_factory=list)
    savepoints: list[str] = field(default_factory=list)
    args: tuple[str, ...] = ()
    failure: str | None = None
    stopped_with_savepoint: bool = False
    start_time: datetime = field(default_factory=_next_start)


@dataclass
class FakeTrigger:
    job_id: str
    location: str | None
    failure: str | None
    polls_left: int


class FakeFlinkApi:
    """One simulated Flink cluster, with the REST quirks gitflink must survive: RUNNING before
    the vertices are, duplicate job ids refused, savepoint 'COMPLETED' that failed."""

    VERTICES = ("Source: sequence -> throttle", "counter -> Sink")

    def __init__(self, name: str, journal: Recorder, version: str = "1.20.5") -> None:
        self.name = name
        self.journal = journal
        self.version = version
        self.jobs: dict[str, FakeJob] = {}
        self.jars: dict[str, Path] = {}
        self.triggers: dict[str, FakeTrigger] = {}
        self.existing_paths: set[str] = set()
        self.disposed: list[str] = []  # savepoint paths disposed, in order
        self.deploy_polls = 1  # job_details calls before vertices report RUNNING
        self.savepoint_polls = 1
        self.savepoint_failures: list[str] = []  # why each of the next triggers fails
        self.fail_next_run: str | None = None
        self.unreachable = False
        self.reads: Counter[str] = Counter()  # read-only calls by name (not in the journal)
        self._ids = itertools.count(1)

    def _log(self, call: str, job_id: str = "") -> None:
        self.journal.add("flink", call, job_id)

    def _job(self, job_id: str) -> FakeJob:
        if job_id not in self.jobs:
            raise FlinkHttpError(f"Could not find Flink job ({job_id})", status=404)
        return self.jobs[job_id]

    def _read(self, call: str, *, probe: bool = False) -> None:
        # Only the cluster-wide reads fail when unreachable, as they always have here.
        if probe and self.unreachable:
            raise FlinkUnreachable(f"GET http://fake/{self.name}/{call}: connection refused")
        self.reads[call] += 1

    def overview(self) -> ClusterOverview:
        self._read("overview", probe=True)
        running = sum(1 for j in self.jobs.values() if j.state == "RUNNING")
        return ClusterOverview(self.version, 1, 4, 4 - running, running)

    def upload_jar(self, path: Path) -> str:
        jar_id = f"{next(self._ids)}_{path.name}"
        self.jars[jar_id] = path
        self._log("upload_jar")
        return jar_id

    def run_jar(self, jar_id: str, request: RunRequest) -> str:
        self._log("run_jar", request.job_id or "")
        if jar_id not in self.jars:
            raise FlinkHttpError(f"Jar file {jar_id} does not exist", status=400)
        job_id = request.job_id or f"{next(self._ids):032x}"
        if job_id in self.jobs:
            raise FlinkHttpError("DuplicateJobSubmissionException: already submitted", status=400)
        path = request.savepoint_path
        if (path is not None and path not in self.existing_paths) or self.fail_next_run:
            cause, self.fail_next_run = self.fail_next_run, None
            self.jobs[job_id] = FakeJob(job_id, "gitflink-counter-job", "FAILED", 0)
            raise FlinkHttpError(
                cause or f"Cannot find checkpoint or savepoint '{path}'", status=400
            )
        self.jobs[job_id] = FakeJob(
            job_id,
            "gitflink-counter-job",
            "RUNNING",
            request.parallelism or 1,
            restored=path,
            polls_until_running=self.deploy_polls,
            args=request.args,
        )
        return job_id

    def delete_jar(self, jar_id: str) -> None:
        self._log("delete_jar")
        self.jars.pop(jar_id, None)

    def list_jobs(self) -> Sequence[JobSummary]:
        """As GET /jobs/overview: task counts show a deploying job's tasks as not yet running
        (without advancing its deployment, which job_details polls do)."""
        self._read("list_jobs", probe=True)
        summaries = []
        for j in self.jobs.values():
            total = len(self.VERTICES) * j.parallelism
            deploying = j.state == "RUNNING" and j.polls_until_running > 0
            running = total if j.state == "RUNNING" and not deploying else 0
            summaries.append(JobSummary(j.job_id, j.name, j.state, total, running, j.start_time))
        return summaries

    def job_details(self, job_id: str) -> JobDetails:
        self._read("job_details")
        job = self._job(job_id)
        deploying = job.state == "RUNNING" and job.polls_until_running > 0
        if deploying:
            job.polls_until_running -= 1
        status = "DEPLOYING" if deploying else job.state
        vertices = tuple(
            Vertex(f"v{i}", name, job.parallelism, status) for i, name in enumerate(self.VERTICES)
        )
        return JobDetails(job.job_id, job.name, job.state, vertices, job.start_time)

    def job_exceptions(self, job_id: str) -> JobExceptions:
        return JobExceptions(root_cause=self._job(job_id).failure)

    def restart_jobmanager(self, job_id: str) -> None:
        """The JobManager restarted without HA: it runs the job again from the path it was
        started with, under the same id, with a newer start time and none of its checkpoints."""
        job = self._job(job_id)
        job.state, job.checkpoints, job.start_time = "RUNNING", [], _next_start()

    def fail_job(self, job_id: str, cause: str) -> None:
        """The job failed and its restart strategy gave up."""
        job = self._job(job_id)
        job.state, job.failure = "FAILED", cause

    def checkpoints(self, job_id: str) -> CheckpointStats:
        self._read("checkpoints")
        job = self._job(job_id)
        latest = job.checkpoints[-1] if job.checkpoints else None
        return CheckpointStats(
            latest_completed=latest,
            latest_completed_id=len(job.checkpoints) or None,
            latest_savepoint=job.savepoints[-1] if job.savepoints else None,
            latest_savepoint_type="SYNC_SAVEPOINT" if job.stopped_with_savepoint else "SAVEPOINT",
            restored=job.restored,
            restored_is_savepoint=job.restored is not None and "savepoint" in job.restored,
        )

    def complete_checkpoint(self, job_id: str) -> str:
        """Simulate a periodic checkpoint of a running job."""
        job = self._job(job_id)
        path = f"file:/fake/{self.name}/checkpoints/{job_id}/chk-{len(job.checkpoints) + 1}"
        job.checkpoints.append(path)
        self.existing_paths.add(path)
        return path

    def _new_trigger(self, job_id: str, trigger_id: str | None, kind: str) -> str:
        trigger_id = trigger_id or f"{next(self._ids):032x}"
        if trigger_id in self.triggers:
            return trigger_id  # Flink: re-posting a triggerId is idempotent
        failure = self.savepoint_failures.pop(0) if self.savepoint_failures else None
        job = self._job(job_id)
        location = None
        if failure is None:
            location = f"file:/fake/{self.name}/{kind}s/{kind}-{job_id[:6]}-{len(self.triggers)}"
            self.existing_paths.add(location)
            (job.savepoints if kind == "savepoint" else job.checkpoints).append(location)
        self.triggers[trigger_id] = FakeTrigger(job_id, location, failure, self.savepoint_polls)
        return trigger_id

    def trigger_savepoint(
        self, job_id: str, target_dir: str | None, *, trigger_id: str | None = None
    ) -> str:
        self._log("trigger_savepoint", job_id)
        return self._new_trigger(job_id, trigger_id, "savepoint")

    def stop_with_savepoint(
        self,
        job_id: str,
        target_dir: str | None,
        *,
        drain: bool = False,
        trigger_id: str | None = None,
    ) -> str:
        self._log("stop_with_savepoint", job_id)
        job = self._job(job_id)
        if trigger_id in self.triggers:
            return trigger_id
        if job.state != "RUNNING":
            raise FlinkHttpError(f"Job {job_id} is not running", status=409)
        trigger_id = self._new_trigger(job_id, trigger_id, "savepoint")
        if self.triggers[trigger_id].failure is None:
            job.state = "FINISHED"
            job.stopped_with_savepoint = True
        return trigger_id

    def _status(self, trigger_id: str) -> AsyncOperation:
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise FlinkHttpError(f"There is no savepoint operation with {trigger_id}", status=404)
        if trigger.polls_left > 0:
            trigger.polls_left -= 1
            return AsyncOperation(OperationState.IN_PROGRESS)
        if trigger.failure:
            return AsyncOperation(OperationState.FAILED, failure=trigger.failure)
        return AsyncOperation(OperationState.COMPLETED, location=trigger.location)

    def savepoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return self._status(trigger_id)

    def trigger_checkpoint(self, job_id: str, *, trigger_id: str | None = None) -> str:
        self._log("trigger_checkpoint", job_id)
        return self._new_trigger(job_id, trigger_id, "checkpoint")

    def dispose_savepoint(self, path: str) -> str:
        self._log("dispose_savepoint", path)
        trigger_id = f"{next(self._ids):032x}"
        failure = None if path in self.existing_paths else f"FileNotFoundException: {path}"
        self.existing_paths.discard(path)
        self.disposed.append(path)
        self.triggers[trigger_id] = FakeTrigger("", None, failure, 0)
        return trigger_id

    def disposal_status(self, trigger_id: str) -> AsyncOperation:
        return self._status(trigger_id)

    def checkpoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return self._status(trigger_id)

    def cancel(self, job_id: str) -> None:
        self._log("cancel", job_id)
        job = self._job(job_id)
        if job.state in TERMINAL:
            raise FlinkHttpError(f"Job {job_id} already reached {job.state}", status=409)
        job.state = "CANCELED"

    def resource_requirements(self, job_id: str) -> dict[str, int]:
        job = self._job(job_id)
        return {f"v{i}": job.parallelism for i in range(len(self.VERTICES))}

    def set_parallelism(self, job_id: str, parallelism: dict[str, int]) -> None:
        self._log("set_parallelism", job_id)
        job = self._job(job_id)
        job.parallelism = max(parallelism.values())
        job.restored = job.checkpoints[-1] if job.checkpoints else None
        job.polls_until_running = self.deploy_polls

    def vertex_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> Sequence[VertexMetric]:
        return [VertexMetric(n, 0.0, 0.0, 0.0, 0.0) for n in names]

    def running_jobs(self) -> list[FakeJob]:
        return [j for j in self.jobs.values() if j.state not in TERMINAL]
