"""The boundaries: what runtime code needs from the outside world, as Protocols.

Adapters implement these; fakes in tests implement them too. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gitflink.model.artifacts import ArtifactPolicy
from gitflink.model.flink import (
    AsyncOperation,
    CheckpointStats,
    ClusterOverview,
    JobDetails,
    JobExceptions,
    JobStart,
    JobSummary,
    RunRequest,
    VertexMetric,
)
from gitflink.model.ids import ResourceId
from gitflink.model.notifications import ResourceEvent, RevisionState, StatusChange
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import ResourceStatus, Snapshot


@dataclass(frozen=True, slots=True)
class RevertRequest:
    """A branch that puts `file` back as it was at `stable` on top of `tip`, after the spec of
    `rejected` was rolled back (docs/rollback.md), so a person can open the pull request."""

    resource: ResourceId
    file: str
    stable: str
    rejected: str
    tip: str
    reason: str

    @property
    def branch(self) -> str:
        return f"gitflink/revert-{self.resource.name}-{self.rejected[:7]}"


class RevertPublisher(Protocol):
    def publish(self, request: RevertRequest) -> bool:
        """Push the branch unless it exists; True when pushed. Raises SourceError."""
        ...


@dataclass(frozen=True, slots=True)
class Revision:
    sha: str
    ref: str
    committed_at: datetime | None = None

    @property
    def short(self) -> str:
        return self.sha[:7]


class GitSource(Protocol):
    def fetch(self) -> Revision:
        """Bring the tracked ref up to date and return the revision it points at."""
        ...

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        """Manifest files (*.yaml, *.yml) under `roots` at `revision`, by repo-relative path,
        plus the repository's top-level `.gitflinkignore` if it has one (model.manifests):
        callers apply it (core.ignoring)."""
        ...

    def blob_ids(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, str]:
        """{path: Git blob id} of exactly the files `read_tree` returns. Equal ids mean equal
        bytes, so a reader can skip files whose id it has already parsed."""
        ...

    def read_blobs(self, ids: Iterable[str]) -> Mapping[str, bytes]:
        """{blob id: bytes} for the ids asked for (as listed by `blob_ids`)."""
        ...


@dataclass(frozen=True, slots=True)
class ClusterHandle:
    resource: ResourceId
    rest_url: str
    flink_version: str | None = None
    pids: tuple[int, ...] = ()
    savepoint_dir: str | None = None
    checkpoint_dir: str | None = None
    # Running, but short of what was started (TaskManagers lost): `ensure_cluster` restores it.
    degraded: str | None = None
    # Managed by another status store (why, in words): never changed through this runtime.
    foreign: str | None = None


class FlinkRuntime(Protocol):
    """Where Flink clusters run: local processes, or Kubernetes."""

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        """Start the cluster if it is not running (idempotent); return once REST answers.
        `revision`: the Git revision applying it, for runtimes that label what they create."""
        ...

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None: ...

    def delete_cluster(self, resource: ResourceId, *, keep_ha: bool = True) -> None:
        """Stop and remove the cluster; deleting what is gone succeeds. `keep_ha`: keep its HA
        metadata (what a last-state start reads); False removes it (deleted for good)."""
        ...

    def list_clusters(self) -> Sequence[ClusterHandle]: ...

    def latest_checkpoint(self, resource: ResourceId, job_id: str) -> Snapshot | None:
        """The newest completed checkpoint of `job_id` in the cluster's checkpoint storage,
        found without asking Flink (the cluster may be gone); None when none is retained."""
        ...

    def resolve_jar(self, jar_uri: str) -> Path:
        """A local file for `jar_uri` (local://, file://, a path), ready to upload."""
        ...

    def start_application(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        start: JobStart,
        *,
        revision: str | None = None,
    ) -> bool:
        """Start the FlinkDeployment's job with its cluster (application mode: the jar from the
        image, `start`'s job id and restore path) and return once Flink knows the job; False
        when this runtime's jobs are submitted over REST instead (nothing done)."""
        ...


class ArtifactSource(Protocol):
    """Fetches job jars that are not on this machine (https), under the agent's policy."""

    @property
    def policy(self) -> ArtifactPolicy: ...

    def fetch(self, uri: str) -> Path:
        """A local copy of `uri`; ArtifactRefused when the policy forbids it (its host resolves
        to a restricted address, it is too large), ArtifactError when the network fails."""
        ...


class FlinkApi(Protocol):
    """Flink's REST API for one cluster. No hidden retries: callers decide."""

    def overview(self) -> ClusterOverview: ...

    def upload_jar(self, path: Path) -> str: ...

    def run_jar(self, jar_id: str, request: RunRequest) -> str: ...

    def delete_jar(self, jar_id: str) -> None: ...

    def list_jobs(self) -> Sequence[JobSummary]: ...

    def job_details(self, job_id: str) -> JobDetails: ...

    def job_exceptions(self, job_id: str) -> JobExceptions: ...

    def checkpoints(self, job_id: str) -> CheckpointStats: ...

    def trigger_savepoint(
        self, job_id: str, target_dir: str | None, *, trigger_id: str | None = None
    ) -> str: ...

    def stop_with_savepoint(
        self,
        job_id: str,
        target_dir: str | None,
        *,
        drain: bool = False,
        trigger_id: str | None = None,
    ) -> str:
        """`trigger_id` makes a retried stop recognisable: its status is queryable by that id."""
        ...

    def savepoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation: ...

    def trigger_checkpoint(self, job_id: str, *, trigger_id: str | None = None) -> str: ...

    def checkpoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation: ...

    def cancel(self, job_id: str) -> None: ...

    def dispose_savepoint(self, path: str) -> str:
        """Start disposing a savepoint's data (`POST /savepoint-disposal`); its trigger id."""
        ...

    def disposal_status(self, trigger_id: str) -> AsyncOperation: ...

    def resource_requirements(self, job_id: str) -> dict[str, int]:
        """{vertex id: parallelism upper bound} (adaptive scheduler only)."""
        ...

    def set_parallelism(self, job_id: str, parallelism: dict[str, int]) -> None: ...

    def vertex_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> Sequence[VertexMetric]: ...


class FlinkApiFactory(Protocol):
    def __call__(self, rest_url: str) -> FlinkApi: ...


class StatusStore(Protocol):
    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        """Every recorded status. A store may parse only what changed since it last read;
        callers never change a loaded status in place (they copy it first). Never raises for
        one bad document: a `model.status_load.StatusLoad` also lists each document that could
        not be read (a plain mapping means every one was). `save`, `delete` and `load` raise
        StatusWriteError for an id that fails validation: it never becomes a path."""
        ...

    def load(self, resource: ResourceId) -> ResourceStatus | None: ...

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        """Durable before it returns: the executor relies on it as a write-ahead log."""
        ...

    def delete(self, resource: ResourceId, message: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class ResourceListener(Protocol):
    """Told what passes did (entry points `gitflink.listeners`, the counterpart of the Flink
    operator's FlinkResourceListener). Subclass it and override what you need: the others do
    nothing. Calls come from a worker thread, with a time limit; raising is logged and counted,
    never seen by the pass."""

    def on_status_change(self, change: StatusChange) -> None:
        """A resource's status was saved with a difference (or the resource deleted)."""
        return None  # a default, not abstract: override what you need

    def on_event(self, event: ResourceEvent) -> None:
        """A pass acted on a resource (Normal), or it failed or was invalid (Warning)."""
        return None  # a default, not abstract: override what you need

    def on_revision(self, state: RevisionState) -> None:
        """A revision's change started (pending), or how applying it ended."""
        return None  # a default, not abstract: override what you need


class Fence(Protocol):
    """Guards every write to the outside world (docs/agent.md#fencing): `check` returns while
    this agent may act, and raises model.errors.NotLeader the moment it cannot prove it."""

    def check(self, action: str) -> None: ...


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """A coordination.k8s.io/v1 Lease's spec. Times are the writer's wall clock, for people:
    the election itself only trusts its own monotonic clock."""

    holder: str | None
    duration_seconds: int
    acquired: datetime | None = None
    renewed: datetime | None = None
    transitions: int = 0


class Leases(Protocol):
    """One Lease object, written with optimistic concurrency on its resourceVersion."""

    def get(self) -> tuple[LeaseRecord, str] | None:
        """The record and its resourceVersion; None when the Lease does not exist."""
        ...

    def create(self, record: LeaseRecord) -> str | None:
        """The new resourceVersion; None when someone created it first."""
        ...

    def update(self, record: LeaseRecord, version: str) -> str | None:
        """The new resourceVersion; None when `version` is stale (someone wrote in between)."""
        ...


class Meter(Protocol):
    """Where measurements go (the agent's Prometheus registry). Names and labels are the ones
    docs/observability.md lists; a name the meter does not know is ignored, never an error."""

    def count(
        self, name: str, labels: Mapping[str, str] | None = None, amount: float = 1
    ) -> None: ...

    def observe(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None: ...

    def set(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None: ...


class NullMeter:
    """Measures nothing: `sync`, `plan` and tests that do not look."""

    def count(self, name: str, labels: Mapping[str, str] | None = None, amount: float = 1) -> None:
        pass

    def observe(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        pass

    def set(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        pass


NULL_METER: Meter = NullMeter()


@dataclass(frozen=True, slots=True)
class Ports:
    source: GitSource | None
    runtime: FlinkRuntime
    flink: FlinkApiFactory
    status: StatusStore
    clock: Clock
    artifacts: ArtifactSource | None = None  # None: only local:// (and allowed file://) jars
    meter: Meter = NULL_METER
    reverts: RevertPublisher | None = None  # None: no revert branches (the default)
