"""In-memory fakes implementing gitflink.ports: runtime, status store, clock, Git source; the
simulated Flink cluster itself is in fake_flink.py.

Every fake appends to a shared `Journal`, so tests can assert the order of status writes
against Flink calls (the write-ahead rule) without patching anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitflink.model.artifacts import DEFAULT_POLICY, ArtifactPolicy
from gitflink.model.errors import ClusterError, StatusWriteError
from gitflink.model.flink import JobStart
from gitflink.model.ids import ResourceId
from gitflink.model.resources import FlinkDeploymentSpec
from gitflink.model.status import ResourceStatus, Snapshot, SnapshotKind
from gitflink.ports import ClusterHandle, Ports, Revision
from support.fake_flink import FakeFlinkApi, FakeJob

__all__ = ["FakeFlinkApi", "FakeJob"]  # re-exported: the simulated cluster lives in fake_flink


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


class FakeFlinkRuntime:
    """Clusters by resource; also the FlinkApiFactory for their REST URLs."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal or Journal()
        self.clusters: dict[ResourceId, ClusterHandle] = {}
        self.ha_removed: list[ResourceId] = []  # delete_cluster(keep_ha=False)
        self.apis: dict[str, FakeFlinkApi] = {}
        self.started: list[ResourceId] = []
        # Savepoints and checkpoints live on storage that outlives any one cluster, as the
        # local runtime's and Kubernetes' do.
        self.storage: set[str] = set()
        self.fail_next_start: str | None = None
        self.degraded: dict[ResourceId, str] = {}  # TaskManagers lost, by cluster
        # As the Kubernetes runtime: a FlinkDeployment's job starts with its JobManager.
        self.starts_applications = False
        self.application_starts: list[tuple[ResourceId, JobStart]] = []

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        self.journal.add("runtime", "ensure_cluster", str(resource))
        if self.fail_next_start:
            reason, self.fail_next_start = self.fail_next_start, None
            raise ClusterError(reason)
        if resource not in self.clusters:
            url = f"http://fake/{resource.namespace}/{resource.name}"
            self.clusters[resource] = ClusterHandle(
                resource, url, savepoint_dir=f"file:/fake/{resource.name}/savepoints"
            )
            self.apis[url] = FakeFlinkApi(resource.name, self.journal)
            self.apis[url].existing_paths = self.storage
            self.started.append(resource)
        self.degraded.pop(resource, None)  # lost TaskManagers are started again
        return self.clusters[resource]

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None:
        handle = self.clusters.get(resource)
        if handle is not None and resource in self.degraded:
            return replace(handle, degraded=self.degraded[resource])
        return handle

    def lose_cluster(self, resource: ResourceId) -> None:
        """Every process of the cluster killed: Flink forgets its jobs, storage keeps their
        checkpoints and savepoints."""
        handle = self.clusters.pop(resource)
        self.apis.pop(handle.rest_url)

    def latest_checkpoint(self, resource: ResourceId, job_id: str) -> Snapshot | None:
        marker = f"/checkpoints/{job_id}/chk-"
        numbered = [
            (int(path.rsplit(marker, 1)[1]), path) for path in self.storage if marker in path
        ]
        if not numbered:
            return None
        return Snapshot(path=max(numbered)[1], kind=SnapshotKind.CHECKPOINT, job_id=job_id)

    def delete_cluster(self, resource: ResourceId, *, keep_ha: bool = True) -> None:
        self.journal.add("runtime", "delete_cluster", str(resource))
        if not keep_ha:
            self.ha_removed.append(resource)
        handle = self.clusters.pop(resource, None)
        if handle is not None:
            self.apis.pop(handle.rest_url, None)

    def list_clusters(self) -> Sequence[ClusterHandle]:
        return list(self.clusters.values())

    def start_application(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        start: JobStart,
        *,
        revision: str | None = None,
    ) -> bool:
        """False by default: jobs go through FakeFlinkApi's REST calls (the local runtime)."""
        if not self.starts_applications:
            return False
        self.journal.add("runtime", "start_application", str(resource))
        self.application_starts.append((resource, start))
        job = spec.job
        assert job is not None
        self.api_for(resource).jobs[start.job_id] = FakeJob(
            start.job_id,
            "gitflink-counter-job",
            "RUNNING",
            job.parallelism or 1,
            restored=start.restore_path,
            args=tuple(job.args or ()),
        )
        return True

    def resolve_jar(self, jar_uri: str) -> Path:
        self.journal.add("runtime", "resolve_jar", jar_uri)
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

    def blob_ids(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, str]:
        return {path: git_blob_id(data) for path, data in self.files.items()}

    def read_blobs(self, ids: Iterable[str]) -> Mapping[str, bytes]:
        by_id = {git_blob_id(data): data for data in self.files.values()}
        return {oid: by_id[oid] for oid in ids}


def git_blob_id(data: bytes) -> str:
    """The id Git gives these bytes, so fakes list the same ids a repository would."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FakeWorld:
    journal: Journal
    clock: FakeClock
    store: FakeStatusStore
    runtime: FakeFlinkRuntime
    source: FakeGitSource
    artifacts: FakeArtifactSource = field(default_factory=lambda: FakeArtifactSource(Journal()))

    @property
    def ports(self) -> Ports:
        return Ports(
            self.source, self.runtime, self.runtime.api, self.store, self.clock, self.artifacts
        )


@dataclass
class FakeArtifactSource:
    """Downloads nothing: every https jar "fetched" becomes a path named after it."""

    journal: Journal
    policy: ArtifactPolicy = DEFAULT_POLICY

    def fetch(self, uri: str) -> Path:
        self.journal.add("artifacts", "fetch", uri)
        return Path("/fake/downloads") / Path(uri).name


def fake_world(files: Mapping[str, bytes] | None = None) -> FakeWorld:
    journal = Journal()
    return FakeWorld(
        journal,
        FakeClock(),
        FakeStatusStore(journal),
        FakeFlinkRuntime(journal),
        FakeGitSource(files),
        FakeArtifactSource(journal),
    )
