"""What planning knows about one resource, frozen: desired (Git), deployed (the last applied spec)
and observed (status and Flink now), the diff between them, and the one builder of a JobPlan.

Rules never mutate facts: they return steps, risks and notes, so a plan depends only on its
inputs, never on the order resources were planned in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gitflink.core import diffing
from gitflink.model.diffkind import DiffKind
from gitflink.model.flinkconf import flink_text
from gitflink.model.ids import ResourceId
from gitflink.model.observed import Observed
from gitflink.model.plan import (
    Action,
    DiffClass,
    Downtime,
    FieldChange,
    JobPlan,
    Restore,
    StartCluster,
    Step,
    StopCluster,
    SubmitJob,
)
from gitflink.model.resources import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkVersion,
    JobSpec,
    JobState,
    UpgradeMode,
)
from gitflink.model.status import ResourceStatus

JobSpecOwner = FlinkDeploymentSpec | FlinkSessionJobSpec
SCHEDULER_KEY = "jobmanager.scheduler"
SAVEPOINT_ON_DELETION = "kubernetes.operator.job.savepoint-on-deletion"
DRAIN_ON_DELETION = "kubernetes.operator.job.drain-on-savepoint-deletion"


@dataclass(frozen=True, slots=True)
class Healing:
    """The recovery policy. `self_heal`: converge changes made outside Git (else only report
    them, like Argo CD's selfHeal: false); `restart_failed`: the default of
    kubernetes.operator.job.restart.failed; restarts of a failed job back off from
    `backoff_first` seconds, doubling up to `backoff_cap`; `now` None: every backoff is over."""

    self_heal: bool = True
    restart_failed: bool = False
    backoff_first: float = 10.0
    backoff_cap: float = 300.0
    now: datetime | None = None
    # Rollback (docs/rollback.md): how long a change may take to run with every task (the
    # default of kubernetes.operator.deployment.readiness.timeout), and how many failures Flink
    # may record within the stability window before a watched change counts as failing.
    readiness_timeout: float = 300.0
    restarts_allowed: int = 1

    def due(self, attempts: int, last: datetime | None) -> datetime | None:
        """When the next attempt may start; None when it may start now."""
        if attempts <= 0 or last is None or self.now is None:
            return None
        delay = min(self.backoff_cap, self.backoff_first * 2 ** (attempts - 1))
        due = last + timedelta(seconds=delay)
        return due if self.now < due else None


@dataclass(frozen=True)
class Facts:
    """One FlinkDeployment (application or session cluster) or FlinkSessionJob being planned."""

    resource: ResourceId
    desired: FlinkDeployment | FlinkSessionJob
    file: str | None
    observed: Observed
    deployed: JobSpecOwner | None
    changes: tuple[FieldChange, ...] = ()
    # For a session job: the spec of the session cluster it runs on, when known.
    cluster: FlinkDeploymentSpec | None = None
    healing: Healing = Healing()

    @property
    def spec(self) -> JobSpecOwner:
        return self.desired.spec

    @property
    def job(self) -> JobSpec | None:
        return self.desired.spec.job

    @property
    def deployed_job(self) -> JobSpec | None:
        return self.deployed.job if self.deployed is not None else None

    @property
    def mode(self) -> UpgradeMode:
        return self.job.upgrade_mode if self.job else UpgradeMode.STATELESS

    @property
    def is_deployment(self) -> bool:
        return isinstance(self.desired, FlinkDeployment)

    @property
    def status(self) -> ResourceStatus:
        return self.observed.status or ResourceStatus()

    @property
    def live_running(self) -> bool:
        return self.observed.job is not None and self.observed.job.is_running

    @property
    def wants_running(self) -> bool:
        return self.job is not None and self.job.state is JobState.RUNNING

    @property
    def was_running(self) -> bool:
        job = self.deployed_job
        return job is not None and job.state is JobState.RUNNING

    @property
    def kind(self) -> DiffKind | None:
        return diffing.diff_kind(self.changes)

    def changed(self, path: str) -> FieldChange | None:
        return diffing.changed(self.changes, path)

    def nonce_set(self, path: str) -> bool:
        """A nonce counts when set to a value (null to value, or value to another value)."""
        change = self.changed(path)
        return change is not None and change.after is not None

    @property
    def cluster_changed(self) -> bool:
        """A change the Flink cluster itself must restart for (not only the job)."""
        if not self.is_deployment:
            return False
        return self.nonce_set("spec.restartNonce") or any(
            change.kind >= DiffKind.SCALE and not change.path.startswith("spec.job.")
            for change in self.changes
        )

    def config(self, key: str) -> str | None:
        """A Flink setting as the job sees it: its own configuration over its cluster's."""
        merged = dict(self.cluster.flink_configuration) if self.cluster else {}
        merged.update(self.spec.flink_configuration)
        value = merged.get(key)
        return None if value is None else flink_text(value)

    def flink_version(self) -> tuple[int, int] | None:
        """The version that runs: as the cluster reports it, else as the spec declares it."""
        reported = self.observed.flink_version
        if reported:
            try:
                major, minor = reported.split(".")[:2]
                return int(major), int(minor)
            except ValueError:
                pass
        declared: FlinkVersion | None = None
        if isinstance(self.spec, FlinkDeploymentSpec):
            declared = self.spec.flink_version
        elif self.cluster is not None:
            declared = self.cluster.flink_version
        return declared.major_minor if declared is not None else None

    def cluster_restart(self) -> list[Step]:
        """Cluster steps around a job restart: restart it only for cluster-level changes."""
        if self.cluster_changed:
            return [StopCluster(self.resource), StartCluster(self.resource)]
        return self.cluster_start()

    def cluster_start(self) -> list[Step]:
        """Cluster steps before submitting a job that is not running."""
        if not self.is_deployment:
            return []
        if self.observed.cluster_running and self.cluster_changed:
            return [StopCluster(self.resource), StartCluster(self.resource)]
        return [] if self.observed.cluster_running else [StartCluster(self.resource)]

    def submit(self, restore: Restore | None, *, adopt: str | None = None) -> SubmitJob:
        allow = bool(self.job and self.job.allow_non_restored_state)
        return SubmitJob(
            self.resource, restore=restore, allow_non_restored_state=allow, adopt=adopt
        )

    def diff_class(self) -> DiffClass:
        return DiffClass.of(self.kind)

    def plan(
        self,
        action: Action,
        steps: tuple[Step, ...] = (),
        *,
        mode: UpgradeMode | None = None,
        state_loss: bool = False,
        downtime: Downtime = Downtime.NONE,
        blocked: str | None = None,
        diff: DiffClass | None = None,
        risks: Iterable[str] = (),
        notes: Iterable[str] = (),
        applies: dict[str, object] | None = None,
        carried_by: ResourceId | None = None,
        drift: str | None = None,
    ) -> JobPlan:
        risks = [*risks, *([blocked] if blocked else [])]
        return JobPlan(
            resource=self.resource,
            action=action,
            diff=diff if diff is not None else self.diff_class(),
            file=self.file,
            desired=self.desired,
            upgrade_mode=mode if mode is not None else (self.mode if self.job else None),
            state_loss=state_loss,
            downtime=downtime,
            steps=steps,
            risks=tuple(dict.fromkeys(risks)),
            fields=self.changes,
            blocked=blocked,
            notes=tuple(dict.fromkeys(notes)),
            applies=applies,
            carried_by=carried_by,
            drift=drift,
        )
