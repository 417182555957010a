"""A Plan is data: per resource, what will happen and the ordered steps that do it.

`gitflink plan` renders exactly the Plan the executor runs. Steps are frozen dataclasses;
handlers dispatch with an exhaustive `match` ending in `assert_never`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gitflink.model.diffkind import DiffKind
from gitflink.model.ids import ResourceId
from gitflink.model.problems import Problem
from gitflink.model.resources import AnyResource, UpgradeMode
from gitflink.model.rollback import Rollback


class Action(StrEnum):
    NONE = "none"
    DEPLOY = "deploy"
    SCALE = "scale"
    UPGRADE = "upgrade"
    REDEPLOY = "redeploy"
    SUSPEND = "suspend"
    RESUME = "resume"
    RESTART = "restart"
    RECOVER = "recover"  # what runs is not what Git says (lost cluster, failed job, drift)
    ROLLBACK = "rollback"  # an upgrade did not become stable: the last stable spec restored
    DELETE = "delete"
    SAVEPOINT = "savepoint"
    CHECKPOINT = "checkpoint"
    ORPHANED = "orphaned"  # removed from Git, prune disabled: left running, reported
    BLOCKED = "blocked"  # cannot proceed safely; a human must act (reason in JobPlan.blocked)


# Changes whose new job must become ready and, with rollback enabled, stay stable for the
# stability window before its spec counts as stable (docs/rollback.md).
WATCHED = frozenset({Action.DEPLOY, Action.UPGRADE, Action.RESTART, Action.SCALE, Action.REDEPLOY})


class DiffClass(StrEnum):
    """The diff of a resource as a whole, as shown in plans."""

    NONE = "NONE"
    IGNORE = "IGNORE"
    SCALE = "SCALE"
    UPGRADE = "UPGRADE"
    SAVEPOINT_REDEPLOY = "SAVEPOINT_REDEPLOY"
    NEW = "NEW"
    REMOVED = "REMOVED"

    @classmethod
    def of(cls, kind: DiffKind | None) -> DiffClass:
        return cls.NONE if kind is None else cls(kind.name)


class Downtime(StrEnum):
    NONE = "none"
    RESCALE = "rescale"
    RESTART = "restart"


class RestoreSource(StrEnum):
    PATH = "path"  # a path known when planning (initialSavepointPath, a recorded savepoint)
    TAKEN = "taken"  # the savepoint/checkpoint recorded by this plan's StopJob step
    LATEST_CHECKPOINT = "latest-checkpoint"  # the newest completed checkpoint, resolved at run


@dataclass(frozen=True, slots=True)
class Restore:
    source: RestoreSource
    path: str | None = None

    def __str__(self) -> str:
        match self.source:
            case RestoreSource.PATH:
                return self.path or "a recorded savepoint"
            case RestoreSource.TAKEN:
                return "the snapshot recorded when the job stopped"
            case RestoreSource.LATEST_CHECKPOINT:
                return "the latest completed checkpoint"


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """Nothing runs: the desired spec is recorded as applied (IGNORE-only changes)."""

    target: ResourceId


@dataclass(frozen=True, slots=True)
class StartCluster:
    """Bring up the Flink cluster of a FlinkDeployment (no job is submitted by this step)."""

    target: ResourceId


@dataclass(frozen=True, slots=True)
class StopCluster:
    """keep_ha: keep the cluster's HA metadata (Flink's HA ConfigMaps on Kubernetes), which a
    last-state start reads; False only when the resource is deleted for good."""

    target: ResourceId
    keep_ha: bool = True


@dataclass(frozen=True, slots=True)
class StopJob:
    """savepoint: stop-with-savepoint, recorded before anything else happens; last-state: record
    the latest completed checkpoint, then cancel; stateless: cancel."""

    target: ResourceId
    mode: UpgradeMode
    drain: bool = False
    # A job the status does not record (one started by another status store, or by hand, in
    # the resource's own cluster): stopped in its place, its state carried on.
    job_id: str | None = None
    # The state the next start restores from, recorded before the job is stopped: a cancelled
    # run whose newest state is not its own (a JobManager that restarted without HA).
    restore_next: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitJob:
    """Run the job under a new generation's id and verify it (the restored path included).
    `adopt`: the job this change submitted before an interruption, verified instead of
    submitted again."""

    target: ResourceId
    restore: Restore | None = None
    allow_non_restored_state: bool = False
    adopt: str | None = None


@dataclass(frozen=True, slots=True)
class TakeSavepoint:
    """A savepoint while the job keeps running (savepointTriggerNonce, a periodic savepoint, a
    FlinkStateSnapshot, `gitflink savepoint`). `trigger`: the operator's trigger type (MANUAL,
    PERIODIC); `use`: what it is for, in the lineage; `key`: makes its trigger id (the same key
    and job give the same id, so a retry after a crash never triggers twice). `owner`: the
    FlinkStateSnapshot it is taken for."""

    target: ResourceId
    trigger: str = "MANUAL"
    use: str = "manual"
    key: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class TakeCheckpoint:
    target: ResourceId
    trigger: str = "MANUAL"
    use: str = "manual"
    key: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class TrimHistory:
    """Drop savepoints from the job's history (max count and age) and, with `dispose`, dispose
    their data; data dropped before and not yet disposed (`disposing`) is disposed too."""

    target: ResourceId
    drop: tuple[str, ...] = ()
    dispose: bool = False


@dataclass(frozen=True, slots=True)
class DisposeSnapshot:
    """Dispose the data of a FlinkStateSnapshot removed from Git (disposeOnDelete), through the
    REST API of the cluster that runs `job` (the job it references)."""

    target: ResourceId
    path: str
    job: ResourceId


# A FlinkStateSnapshot whose job does not run: blocked with this prefix, reported ABANDONED.
ABANDONED = "abandoned: "


@dataclass(frozen=True, slots=True)
class Rescale:
    """In-place rescale through the adaptive scheduler's resource-requirements API."""

    target: ResourceId
    parallelism: int


@dataclass(frozen=True, slots=True)
class AwaitJob:
    """Wait until the recorded job runs with all its tasks again (Flink restarts it by itself
    once its TaskManagers are back)."""

    target: ResourceId


Step = (
    RecordSpec
    | StartCluster
    | StopCluster
    | StopJob
    | SubmitJob
    | TakeSavepoint
    | TakeCheckpoint
    | Rescale
    | AwaitJob
    | TrimHistory
    | DisposeSnapshot
)


def describe(step: Step) -> str:
    """One line a person can read: used in plans, progress and status."""
    match step:
        case RecordSpec():
            return "record the new spec as applied (no restart)"
        case StartCluster():
            return f"start Flink cluster {step.target.short}"
        case StopCluster(keep_ha=False):
            return f"stop Flink cluster {step.target.short} and remove its HA metadata"
        case StopCluster():
            return f"stop Flink cluster {step.target.short}"
        case StopJob(mode=UpgradeMode.SAVEPOINT):
            return f"stop job {step.target.short} with a savepoint"
        case StopJob(mode=UpgradeMode.LAST_STATE):
            return f"record the latest checkpoint of {step.target.short}, then cancel the job"
        case StopJob(restore_next=str(path)):
            return f"cancel job {step.target.short} (its state is older than {path})"
        case StopJob():
            return f"cancel job {step.target.short} (state discarded)"
        case SubmitJob(adopt=str(job_id), restore=None):
            return (
                f"verify job {job_id[:8]} of {step.target.short}, submitted before an interruption"
            )
        case SubmitJob(adopt=str(job_id)):
            return (
                f"verify job {job_id[:8]} of {step.target.short}, submitted before an "
                f"interruption, restored from {step.restore}"
            )
        case SubmitJob(restore=None):
            return f"submit job {step.target.short} with empty state"
        case SubmitJob():
            return f"submit job {step.target.short} restoring from {step.restore}"
        case TakeSavepoint(use="manual"):
            return f"take a savepoint of {step.target.short}"
        case TakeSavepoint():
            return f"take a savepoint of {step.target.short} ({step.use})"
        case TakeCheckpoint(use="manual"):
            return f"take a checkpoint of {step.target.short}"
        case TakeCheckpoint():
            return f"take a checkpoint of {step.target.short} ({step.use})"
        case TrimHistory(drop=()):
            return f"dispose the savepoints of {step.target.short} dropped from its history"
        case TrimHistory():
            verb = "dispose" if step.dispose else "forget (data kept)"
            return f"{verb} {len(step.drop)} old savepoint(s) of {step.target.short}"
        case DisposeSnapshot():
            return f"dispose the data of {step.path}"
        case Rescale():
            return f"rescale {step.target.short} in place to parallelism {step.parallelism}"
        case AwaitJob():
            return f"wait for job {step.target.short} to run again with all its tasks"
    raise AssertionError(step)  # pragma: no cover - exhaustive above


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: str  # e.g. "spec.job.parallelism", "spec.flinkConfiguration[state.backend.type]"
    before: Any
    after: Any
    kind: DiffKind


@dataclass(frozen=True, slots=True)
class JobPlan:
    resource: ResourceId
    action: Action
    diff: DiffClass
    file: str | None = None
    desired: AnyResource | None = None
    upgrade_mode: UpgradeMode | None = None
    state_loss: bool = False
    downtime: Downtime = Downtime.NONE
    steps: tuple[Step, ...] = ()
    risks: tuple[str, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    blocked: str | None = None  # why the plan stops and a human must act
    notes: tuple[str, ...] = ()  # plain facts worth showing that are not risks
    # The spec recorded as applied when the plan succeeds, when it is not the desired one (an
    # interrupted change finished while Git moved on); None: the desired spec.
    applies: dict[str, Any] | None = None
    # A session job whose steps run in its cluster's plan (stopped and resubmitted with it).
    carried_by: ResourceId | None = None
    # What runs differs from what Git says (a lost cluster, a failed or cancelled job...): the
    # difference in words. A RECOVER plan converges it; any other action only reports it.
    drift: str | None = None
    # A ROLLBACK plan: the record saved with its intent (why, Git's spec put aside, the spec and
    # savepoint restored); a plan that only reports a rollback carries none.
    rollback: Rollback | None = None
    # A WATCHED change: seconds from its start (`pending.startedAt`) within which its new job
    # must run with every task (the readiness timeout); its waits give up at that deadline.
    ready_within: float | None = None


PERIODIC_USE, ONE_OFF_USE = "periodic", "one-off"
PERIODIC_RETRY = "/retry@"  # a periodic trigger key after a failure: base key, failure time
HOUSEKEEPING_USES = frozenset({PERIODIC_USE, ONE_OFF_USE})


def housekeeping(plan: JobPlan) -> bool:
    """Only periodic or one-off (`gitflink savepoint`) snapshots and history trimming: nothing
    changes what runs, so no history entry; the snapshots go to the lineage."""
    return bool(plan.steps) and all(
        isinstance(step, TrimHistory)
        or (isinstance(step, TakeSavepoint | TakeCheckpoint) and step.use in HOUSEKEEPING_USES)
        for step in plan.steps
    )


class Baseline(StrEnum):
    REVISION = "revision"
    DEPLOYED = "deployed"


@dataclass(frozen=True, slots=True)
class Plan:
    jobs: tuple[JobPlan, ...]
    problems: tuple[Problem, ...] = ()
    baseline: Baseline = Baseline.REVISION
    base: str | None = None
    head: str | None = None
    notes: tuple[str, ...] = field(default=())

    def for_resource(self, resource: ResourceId) -> JobPlan | None:
        return next((job for job in self.jobs if job.resource == resource), None)
