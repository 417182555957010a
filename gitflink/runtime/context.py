"""What every step handler works with: the ports, the plan, the working status, and helpers for
derived ids, cluster lookup and clock-driven waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gitflink.core.planning.topology import cluster_of
from gitflink.model.errors import ClusterError, FlinkTimeout, GitflinkError, Next
from gitflink.model.ids import ResourceId
from gitflink.model.plan import JobPlan
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob, JobSpec
from gitflink.model.status import LINEAGE_LIMIT, LineageEntry, ResourceStatus, Snapshot
from gitflink.ports import ClusterHandle, FlinkApi, Ports
from gitflink.runtime.progress import Progress

T = TypeVar("T")


class StateAtRisk(GitflinkError):
    """Continuing would lose state (no savepoint to restore from): a human must act."""

    next = Next.STALL


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Deadlines in seconds, measured on the Clock port."""

    running: float = 180.0  # submit -> every vertex RUNNING
    savepoint: float = 600.0
    stop: float = 120.0  # cancel/stop -> terminal job state
    rescale: float = 180.0  # adaptive scheduler cooldowns can take 30 s and more
    poll: float = 0.1


def same_path(left: str | None, right: str | None) -> bool:
    """Flink reports `file:/x` for what was requested as `file:///x` or `/x`."""

    def norm(path: str) -> str:
        for prefix in ("file://", "file:"):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        return "/" + path.strip("/")

    return left is not None and right is not None and norm(left) == norm(right)


def restored_from(restored: str | None, expected: str, job_id: str) -> bool:
    """Flink restored `expected`, or (after an adaptive-scheduler rescale) a checkpoint the job
    took itself since, which descends from the restore it was submitted with."""
    if same_path(restored, expected):
        return True
    return restored is not None and f"/{job_id}/chk-" in restored


@dataclass
class StepContext:
    ports: Ports
    plan: JobPlan
    status: ResourceStatus  # the working copy; handlers mutate it and call `save`
    revision: str | None
    progress: Progress
    timeouts: Timeouts

    @property
    def resource(self) -> ResourceId:
        return self.plan.resource

    def save(self, message: str) -> None:
        self.ports.status.save(self.resource, self.status, f"{self.resource.short}: {message}")

    def say(self, text: str) -> None:
        self.progress.step(self.resource, text)

    @property
    def cluster_id(self) -> ResourceId:
        """The FlinkDeployment whose cluster runs this resource's job."""
        cluster = cluster_of(self.resource, self.plan.desired, self.status)
        if cluster is None:
            raise ClusterError(f"{self.resource.short}: unknown session cluster")
        return cluster

    def handle(self) -> ClusterHandle:
        handle = self.ports.runtime.find_cluster(self.cluster_id)
        if handle is None:
            raise ClusterError(f"the Flink cluster of {self.cluster_id.short} is not running")
        return handle

    def api(self) -> FlinkApi:
        return self.ports.flink(self.handle().rest_url)

    def ensure_capacity(self) -> None:
        """An application cluster is sized by its job: let the runtime add TaskManagers for a
        higher parallelism before the job needs them (idempotent; nothing to do for sessions)."""
        desired = self.plan.desired
        if isinstance(desired, FlinkDeployment) and desired.spec.job is not None:
            self.say("making sure the cluster has slots for the job")
            self.ports.runtime.ensure_cluster(self.resource, desired.spec, revision=self.revision)

    def job_spec(self) -> JobSpec:
        desired = self.plan.desired
        if isinstance(desired, FlinkDeployment | FlinkSessionJob) and desired.spec.job:
            return desired.spec.job
        raise GitflinkError(f"{self.resource.short}: the plan submits a job but has no job spec")

    def target_spec(self) -> dict[str, Any]:
        """The spec this plan applies (`JobPlan.applies`, else the desired one)."""
        if self.plan.applies is not None:
            return dict(self.plan.applies)
        desired = self.plan.desired
        if desired is None:
            return {}
        spec: dict[str, Any] = desired.to_manifest().get("spec", {})
        return spec

    def record_snapshot(self, snapshot: Snapshot, use: str) -> None:
        """Remember a snapshot taken in the status (newest last in the history, which only the
        retention rule trims: core.planning.retention) and in the lineage, with `use`."""
        job = self.status.job_status
        if snapshot.kind.value == "checkpoint":
            job.last_checkpoint = snapshot
        else:
            job.last_savepoint = snapshot
            known = [s for s in job.savepoint_history if s.path != snapshot.path]
            job.savepoint_history = [*known, snapshot]
        self.record_lineage(snapshot, use, snapshot.revision)

    def record_lineage(self, snapshot: Snapshot, use: str, revision: str | None) -> None:
        """One lineage entry (a retried step records the same use of a path once)."""
        entry = LineageEntry(
            revision=revision,
            at=snapshot.taken_at,
            kind=snapshot.kind,
            path=snapshot.path,
            use=use,
            job_id=snapshot.job_id,
        )
        lineage = self.status.lineage
        if any(e.path == entry.path and e.use == entry.use for e in lineage):
            return
        self.status.lineage = [*lineage, entry][-LINEAGE_LIMIT:]

    def readiness_left(self) -> float | None:
        """Seconds until the change's readiness deadline (`JobPlan.ready_within` from
        `PendingChange.ready_since`, saved before the step); None when the plan has none."""
        within, pending = self.plan.ready_within, self.status.pending
        since = pending.ready_since if pending is not None else None
        if within is None or since is None:
            return None
        return within - (self.ports.clock.now() - since).total_seconds()

    def wait_for(self, what: str, check: Callable[[], T | None], timeout: float) -> T:
        """Poll `check` through the Clock until it returns a value or the deadline passes."""
        clock = self.ports.clock
        deadline = clock.monotonic() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            if clock.monotonic() >= deadline:
                raise FlinkTimeout(f"{self.resource.short}: gave up after {timeout:.0f}s {what}")
            clock.sleep(self.timeouts.poll)
