"""In-memory fakes implementing gitflink.ports: a simulated Flink cluster, runtime, store, clock.

Every fake appends to a shared `Journal`, so tests can assert the order of status writes
against Flink calls (the write-ahead rule) without patching anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitflink.model.errors import (
    ClusterError,
    FlinkHttpError,
    FlinkUnreachable,
    StatusWriteError,
)
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
from gitflink.model.ids import ResourceId
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import ResourceStatus
from gitflink.ports import ClusterHandle, Ports, Revision

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}


@dataclass
class Journal:
    """What happened, in order: ("flink", call, job id) and ("status", message, lifecycle)."""

    events: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, *event: str) -> None:
        self.events.append(event)

    def calls(self, source: str) -> list[str]:
        return [e[1] for e in self.events if e[0] == source]

    def index(self, source: str, name: str) -> int:
        return next(i for i, e in enumerate(self.events) if e[0] == source and e[1] == name)


class FakeClock:
    """Fake time: `sleep` advances it; nothing ever waits."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0
        self.slept = 0.0

    def now(self) -> datetime:
        return self._now + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self._mono += seconds
        self.slept += seconds


class FakeStatusStore:
    """Statuses kept as JSON (as a real store would), so later mutation cannot leak in."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal or Journal()
        self._data: dict[ResourceId, str] = {}
        self.saves: list[tuple[ResourceId, ResourceStatus, str]] = []
        self.fail_after: int | None = None  # raise StatusWriteError on save number N (1-based)

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        return {rid: ResourceStatus.model_validate_json(raw) for rid, raw in self._data.items()}

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        raw = self._data.get(resource)
        return None if raw is None else ResourceStatus.model_validate_json(raw)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        if self.fail_after is not None and len(self.saves) + 1 >= self.fail_after:
            raise StatusWriteError("disk full (fake)")
        self._data[resource] = status.model_dump_json(by_alias=True)
        copy = ResourceStatus.model_validate_json(self._data[resource])
        self.saves.append((resource, copy, message))
        self.journal.add("status", message, copy.lifecycle_state.value)

    def delete(self, resource: ResourceId, message: str) -> None:
        self._data.pop(resource, None)
        self.journal.add("status", message, "DELETED")


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

    def __init__(self, name: str, journal: Journal, version: str = "1.20.5") -> None:
        self.name = name
        self.journal = journal
        self.version = version
        self.jobs: dict[str, FakeJob] = {}
        self.jars: dict[str, Path] = {}
        self.triggers: dict[str, FakeTrigger] = {}
        self.existing_paths: set[str] = set()
        self.deploy_polls = 1  # job_details calls before vertices report RUNNING
        self.savepoint_polls = 1
        self.fail_next_savepoint: str | None = None
        self.fail_next_run: str | None = None
        self.unreachable = False
        self._ids = itertools.count(1)

    def _log(self, call: str, job_id: str = "") -> None:
        self.journal.add("flink", call, job_id)

    def _job(self, job_id: str) -> FakeJob:
        if job_id not in self.jobs:
            raise FlinkHttpError(f"Could not find Flink job ({job_id})", status=404)
        return self.jobs[job_id]

    def overview(self) -> ClusterOverview:
        if self.unreachable:
            raise FlinkUnreachable(f"GET http://fake/{self.name}/overview: connection refused")
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
        return [JobSummary(j.job_id, j.name, j.state) for j in self.jobs.values()]

    def job_details(self, job_id: str) -> JobDetails:
        job = self._job(job_id)
        deploying = job.state == "RUNNING" and job.polls_until_running > 0
        if deploying:
            job.polls_until_running -= 1
        status = "DEPLOYING" if deploying else job.state
        vertices = tuple(
            Vertex(f"v{i}", name, job.parallelism, status) for i, name in enumerate(self.VERTICES)
        )
        return JobDetails(job.job_id, job.name, job.state, vertices)

    def job_exceptions(self, job_id: str) -> JobExceptions:
        return JobExceptions(root_cause=None)

    def checkpoints(self, job_id: str) -> CheckpointStats:
        job = self._job(job_id)
        latest = job.checkpoints[-1] if job.checkpoints else None
        return CheckpointStats(
            latest_completed=latest,
            latest_completed_id=len(job.checkpoints) or None,
            latest_savepoint=job.savepoints[-1] if job.savepoints else None,
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
        failure, self.fail_next_savepoint = self.fail_next_savepoint, None
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

    def trigger_checkpoint(self, job_id: str) -> str:
        self._log("trigger_checkpoint", job_id)
        return self._new_trigger(job_id, None, "checkpoint")

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


class FakeFlinkRuntime:
    """Clusters by resource; also the FlinkApiFactory for their REST URLs."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal or Journal()
        self.clusters: dict[ResourceId, ClusterHandle] = {}
        self.apis: dict[str, FakeFlinkApi] = {}
        self.started: list[ResourceId] = []

    def ensure_cluster(self, resource: ResourceId, spec: FlinkDeploymentSpec) -> ClusterHandle:
        self.journal.add("runtime", "ensure_cluster", str(resource))
        if resource not in self.clusters:
            url = f"http://fake/{resource.namespace}/{resource.name}"
            self.clusters[resource] = ClusterHandle(
                resource, url, savepoint_dir=f"file:/fake/{resource.name}/savepoints"
            )
            self.apis[url] = FakeFlinkApi(resource.name, self.journal)
            self.started.append(resource)
        return self.clusters[resource]

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None:
        return self.clusters.get(resource)

    def delete_cluster(self, resource: ResourceId) -> None:
        self.journal.add("runtime", "delete_cluster", str(resource))
        handle = self.clusters.pop(resource, None)
        if handle is not None:
            self.apis.pop(handle.rest_url, None)

    def list_clusters(self) -> Sequence[ClusterHandle]:
        return list(self.clusters.values())

    def resolve_jar(self, jar_uri: str) -> Path:
        if "missing" in jar_uri:
            raise ClusterError(f"jar not found: {jar_uri}")
        return Path("/fake/jobs") / Path(jar_uri).name

    def api(self, rest_url: str) -> FakeFlinkApi:
        if rest_url not in self.apis:
            raise ClusterError(f"no cluster at {rest_url}")
        return self.apis[rest_url]

    def api_for(self, resource: ResourceId) -> FakeFlinkApi:
        return self.apis[self.clusters[resource].rest_url]


class FakeGitSource:
    """A Git source whose tree is a dict; `commit` replaces it under a new revision."""

    def __init__(self, files: Mapping[str, bytes] | None = None) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.revision = Revision(sha="a" * 40, ref="main")
        self._count = 0

    def commit(self, files: Mapping[str, bytes]) -> Revision:
        self._count += 1
        self.files = dict(files)
        self.revision = Revision(sha=f"{self._count:x}".rjust(40, "b"), ref="main")
        return self.revision

    def fetch(self) -> Revision:
        return self.revision

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        return dict(self.files)


@dataclass
class FakeWorld:
    journal: Journal
    clock: FakeClock
    store: FakeStatusStore
    runtime: FakeFlinkRuntime
    source: FakeGitSource

    @property
    def ports(self) -> Ports:
        return Ports(self.source, self.runtime, self.runtime.api, self.store, self.clock)


def fake_world(files: Mapping[str, bytes] | None = None) -> FakeWorld:
    journal = Journal()
    return FakeWorld(
        journal,
        FakeClock(),
        FakeStatusStore(journal),
        FakeFlinkRuntime(journal),
        FakeGitSource(files),
    )
