"""The scenario table of docs/planning.md, one row per scenario, at the planning level: the
spec deployed, the spec Git wants, what is observed, and the plan that must come out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from gitflink.core import planning
from gitflink.core.planning.removal import PruneGuard
from gitflink.model.ids import ResourceId
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import (
    Action,
    JobPlan,
    RestoreSource,
    Step,
    StopJob,
    SubmitJob,
)
from gitflink.model.problems import Problem
from gitflink.model.resources import AnyResource, FlinkDeployment, FlinkStateSnapshot
from gitflink.model.status import (
    JobStatus,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
    SnapshotKind,
)

ADAPTIVE = {"jobmanager.scheduler": "adaptive"}
RESTART_FAILED = {"kubernetes.operator.job.restart.failed": "true"}
SAVEPOINT = "file:///sp/savepoint-1"
CHECKPOINT = "file:///cp/chk-7"
# Only in standalone mode are job.parallelism and taskManager.replicas SCALE (SpecDiffTest).
STANDALONE = {"mode": "standalone"}


def app(
    *,
    version: str = "v1_20",
    config: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    **job: Any,
) -> FlinkDeployment:
    """The application `orders`: `job` fields, Flink `config`, other top-level `spec` fields."""
    extra = spec or {}
    spec = {
        "image": "flink:1.20",
        "flinkVersion": version,
        "flinkConfiguration": config or {},
        "job": {"jarURI": "local:///job.jar", "parallelism": 2, "upgradeMode": "savepoint", **job},
    }
    spec.update(extra)
    if "replicas" in job:
        spec["taskManager"] = {"replicas": spec["job"].pop("replicas")}
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": spec,
        }
    )


def session(**spec: Any) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": {"flinkVersion": "v1_20", **spec},
        }
    )


def snapshot() -> FlinkStateSnapshot:
    return FlinkStateSnapshot.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkStateSnapshot",
            "metadata": {"name": "orders-sp"},
            "spec": {
                "jobReference": {"kind": "FlinkDeployment", "name": "orders"},
                "savepoint": {},
            },
        }
    )


@dataclass(frozen=True)
class Seen:
    """What is observed: the job's state in Flink (None: no job), its checkpoint, the version
    the cluster reports, and what the status recorded besides the last applied spec."""

    job: str | None = "RUNNING"
    checkpoint: str | None = CHECKPOINT
    version: str = "1.20.5"
    cluster: bool = True
    job_status: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] | None = None


def _observed(before: AnyResource, seen: Seen) -> Observed:
    spec = before.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    job_status = JobStatus(**{"job_id": "j1", "state": seen.job, **seen.job_status})
    pending = None
    if seen.pending is not None:
        pending = PendingChange.model_validate(
            {"action": "upgrade", "targetSpec": spec, **seen.pending}
        )
    status = ResourceStatus(
        reconciliation=ReconciliationStatus(last_applied_spec=spec),
        job_status=job_status,
        pending=pending,
    )
    live = None
    if seen.job is not None:
        live = LiveJob(
            str(job_status.job_id),
            seen.job,
            all_vertices_running=seen.job == "RUNNING",
            latest_checkpoint=seen.checkpoint,
        )
    return Observed(status, cluster_running=seen.cluster, job=live, flink_version=seen.version)


def shape(step: Step) -> str:
    """A step as the docs table names it."""
    match step:
        case StopJob():
            return f"StopJob({step.mode})"
        case SubmitJob(adopt=str()):
            return "SubmitJob(adopt)"
        case SubmitJob(restore=None):
            return "SubmitJob(empty)"
        case SubmitJob(restore=restore) if restore is not None:
            return (
                "SubmitJob(taken)"
                if restore.source is RestoreSource.TAKEN
                else f"SubmitJob({restore.path})"
            )
    return type(step).__name__


@dataclass(frozen=True)
class Row:
    scenario: str
    after: AnyResource | None
    before: AnyResource | None = None
    seen: Seen = Seen()
    action: Action = Action.UPGRADE
    steps: tuple[str, ...] = ()
    state_loss: bool = False
    prune: bool = True


STOP_SP, TAKEN = "StopJob(savepoint)", "SubmitJob(taken)"
RESTART = ("StopCluster", "StartCluster")
STATELESS_SUSPENDED = app(upgradeMode="stateless", state="suspended")
ROWS = [
    Row("New resource", app(), action=Action.DEPLOY, steps=("StartCluster", "SubmitJob(empty)")),
    Row(
        "New resource from initialSavepointPath",
        app(initialSavepointPath=SAVEPOINT),
        action=Action.DEPLOY,
        steps=("StartCluster", f"SubmitJob({SAVEPOINT})"),
    ),
    Row(
        "New resource with job.state: suspended",
        app(state="suspended"),
        action=Action.NONE,
        steps=("RecordSpec",),
    ),
    Row("New session cluster", session(), action=Action.DEPLOY, steps=("StartCluster",)),
    Row("No change", app(), app(), action=Action.NONE),
    Row(
        "IGNORE-only change",
        app(allowNonRestoredState=True),
        app(),
        action=Action.NONE,
        steps=("RecordSpec",),
    ),
    Row(
        "savepointTriggerNonce changed, job running",
        app(savepointTriggerNonce=1),
        app(),
        action=Action.SAVEPOINT,
        steps=("TakeSavepoint", "RecordSpec"),
    ),
    Row(
        "checkpointTriggerNonce changed, job running",
        app(checkpointTriggerNonce=1),
        app(),
        action=Action.CHECKPOINT,
        steps=("TakeCheckpoint", "RecordSpec"),
    ),
    Row("UPGRADE, job running, savepoint", app(args=["--v2"]), app(), steps=(STOP_SP, TAKEN)),
    Row(
        "UPGRADE, job running, last-state",
        app(upgradeMode="last-state", args=["--v2"]),
        app(upgradeMode="last-state"),
        steps=("StopJob(last-state)", TAKEN),
    ),
    Row(
        "UPGRADE, job running, last-state, flinkVersion changed",
        app(upgradeMode="last-state", version="v2_0"),
        app(upgradeMode="last-state"),
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "UPGRADE, job running, stateless",
        app(upgradeMode="stateless", args=["--v2"]),
        app(upgradeMode="stateless"),
        steps=("StopJob(stateless)", "SubmitJob(empty)"),
        state_loss=True,
    ),
    Row(
        "UPGRADE, job not running, savepoint recorded for the upgrade",
        app(args=["--v2"]),
        app(),
        Seen(job="FAILED", job_status={"upgrade_savepoint_path": SAVEPOINT}),
        steps=(f"SubmitJob({SAVEPOINT})",),
    ),
    Row(
        "UPGRADE, job not running, savepoint mode, checkpoint known",
        app(args=["--v2"]),
        app(),
        Seen(job="FAILED"),
        steps=(f"SubmitJob({CHECKPOINT})",),
    ),
    Row(
        "UPGRADE, job not running, nothing known",
        app(args=["--v2"]),
        app(),
        Seen(job=None, checkpoint=None),
        action=Action.BLOCKED,
    ),
    Row(
        "restartNonce changed (only)",
        app(spec={"restartNonce": 1}),
        app(),
        action=Action.RESTART,
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "SCALE, adaptive, Flink 1.x with a completed checkpoint",
        app(spec=STANDALONE, config=ADAPTIVE, parallelism=3),
        app(spec=STANDALONE, config=ADAPTIVE),
        action=Action.SCALE,
        steps=("Rescale",),
    ),
    Row(
        "same on Flink 2.x, without a checkpoint",
        app(spec=STANDALONE, config=ADAPTIVE, parallelism=3, version="v2_0"),
        app(spec=STANDALONE, config=ADAPTIVE, version="v2_0"),
        Seen(checkpoint=None, version="2.0.1"),
        action=Action.SCALE,
        steps=("Rescale",),
    ),
    Row(
        "same on Flink 1.x, no completed checkpoint yet",
        app(spec=STANDALONE, config=ADAPTIVE, parallelism=3),
        app(spec=STANDALONE, config=ADAPTIVE),
        Seen(checkpoint=None),
        action=Action.SCALE,
        steps=(STOP_SP, TAKEN),
    ),
    Row(
        "same on 1.x, no checkpoint, checkpointTriggerNonce in the same change",
        app(spec=STANDALONE, config=ADAPTIVE, parallelism=3, checkpointTriggerNonce=1),
        app(spec=STANDALONE, config=ADAPTIVE),
        Seen(checkpoint=None),
        action=Action.SCALE,
        steps=("TakeCheckpoint", "Rescale"),
    ),
    Row(
        "taskManager.replicas grows, adaptive",
        app(spec=STANDALONE, config=ADAPTIVE, replicas=3),
        app(spec=STANDALONE, config=ADAPTIVE, replicas=2),
        action=Action.SCALE,
        steps=("StartCluster",),
    ),
    Row(
        "taskManager.replicas shrinks",
        app(spec=STANDALONE, config=ADAPTIVE, replicas=1),
        app(spec=STANDALONE, config=ADAPTIVE, replicas=2),
        action=Action.SCALE,
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "pipeline.jobvertex-parallelism-overrides changed (native mode)",
        app(config={**ADAPTIVE, "pipeline.jobvertex-parallelism-overrides": "a:2"}),
        app(config=ADAPTIVE),
        action=Action.SCALE,
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "SCALE otherwise (default scheduler)",
        app(spec=STANDALONE, parallelism=3),
        app(spec=STANDALONE),
        action=Action.SCALE,
        steps=(STOP_SP, TAKEN),
    ),
    Row(
        "job.parallelism changed in native mode (mode unset)",
        app(config=ADAPTIVE, parallelism=3),
        app(config=ADAPTIVE),
        action=Action.UPGRADE,
        steps=(STOP_SP, TAKEN),
    ),
    Row(
        "taskManager.replicas changed in native mode",
        app(config=ADAPTIVE, replicas=3),
        app(config=ADAPTIVE, replicas=2),
        action=Action.UPGRADE,
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "pipeline.jobvertex-parallelism-overrides changed in standalone mode",
        app(
            spec=STANDALONE, config={**ADAPTIVE, "pipeline.jobvertex-parallelism-overrides": "a:2"}
        ),
        app(spec=STANDALONE, config=ADAPTIVE),
        action=Action.UPGRADE,
        steps=(STOP_SP, *RESTART, TAKEN),
    ),
    Row(
        "savepointRedeployNonce changed",
        app(savepointRedeployNonce=1, initialSavepointPath=SAVEPOINT),
        app(),
        action=Action.REDEPLOY,
        steps=("StopJob(stateless)", f"SubmitJob({SAVEPOINT})"),
    ),
    Row(
        "savepointRedeployNonce changed, no initialSavepointPath",
        app(savepointRedeployNonce=1),
        app(),
        action=Action.BLOCKED,
    ),
    Row(
        "running -> suspended",
        app(state="suspended"),
        app(),
        action=Action.SUSPEND,
        steps=(STOP_SP, "StopCluster"),
    ),
    Row(
        "suspended -> running",
        app(),
        app(state="suspended"),
        Seen(job=None, cluster=False, job_status={"upgrade_savepoint_path": SAVEPOINT}),
        action=Action.RESUME,
        steps=("StartCluster", f"SubmitJob({SAVEPOINT})"),
    ),
    Row(
        "suspended -> running, savepoint mode, only a checkpoint recorded",
        app(),
        app(state="suspended"),
        Seen(
            job=None,
            cluster=False,
            job_status={"last_checkpoint": Snapshot(path=CHECKPOINT, kind=SnapshotKind.CHECKPOINT)},
        ),
        action=Action.RESUME,
        steps=("StartCluster", f"SubmitJob({CHECKPOINT})"),
    ),
    Row(
        "suspended -> running, nothing recorded (stateful)",
        app(),
        app(state="suspended"),
        Seen(job=None, cluster=False),
        action=Action.BLOCKED,
    ),
    Row(
        "suspended -> suspended with other changes",
        app(state="suspended", args=["--v2"]),
        app(state="suspended"),
        Seen(job=None, cluster=False),
        action=Action.NONE,
        steps=("RecordSpec",),
    ),
    Row(
        "Session cluster becomes an application",
        app(),
        session(),
        Seen(job=None),
        steps=(*RESTART, "SubmitJob(empty)"),
    ),
    Row(
        "File removed, prune on, savepoint-on-deletion",
        None,
        app(config={"kubernetes.operator.job.savepoint-on-deletion": "true"}),
        action=Action.DELETE,
        steps=(STOP_SP, "StopCluster"),
    ),
    Row(
        "File removed, prune on, stateful: a final savepoint by default",
        None,
        app(),
        action=Action.DELETE,
        steps=(STOP_SP, "StopCluster"),
    ),
    Row(
        "File removed, prune on, savepoint-on-deletion false",
        None,
        app(config={"kubernetes.operator.job.savepoint-on-deletion": "false"}),
        action=Action.DELETE,
        steps=("StopJob(stateless)", "StopCluster"),
        state_loss=True,
    ),
    Row(
        "File removed, prune on, stateless",
        None,
        app(upgradeMode="stateless"),
        action=Action.DELETE,
        steps=("StopJob(stateless)", "StopCluster"),
    ),
    Row("File removed, prune off", None, app(), action=Action.ORPHANED, prune=False),
    Row(
        "Interrupted: savepoint recorded, no running job",
        app(args=["--v2"]),
        app(),
        Seen(
            job=None,
            cluster=False,
            pending={"stopSnapshot": {"path": SAVEPOINT}},
            job_status={"upgrade_savepoint_path": SAVEPOINT},
        ),
        steps=("StartCluster", f"SubmitJob({SAVEPOINT})"),
    ),
    Row(
        "Interrupted: no running job, no savepoint recorded",
        app(args=["--v2"]),
        app(),
        Seen(job=None, pending={}, job_status={"last_checkpoint": Snapshot(path=CHECKPOINT)}),
        steps=(f"SubmitJob({CHECKPOINT})",),
    ),
    Row(
        "Interrupted: the submitted job runs",
        app(args=["--v2"]),
        app(),
        Seen(pending={"submittedJobId": "j1"}, job_status={"upgrade_savepoint_path": SAVEPOINT}),
        steps=("SubmitJob(adopt)",),
    ),
    Row(
        "Interrupted: the old job still runs",
        app(args=["--v2"]),
        app(),
        Seen(pending={}),
        steps=(STOP_SP, TAKEN),
    ),
    Row(
        "Interrupted: the old job finished before its savepoint was recorded",
        app(args=["--v2"]),
        app(),
        Seen(job="FINISHED", pending={}),
        steps=(STOP_SP, TAKEN),
    ),
    # What runs differs from Git while the spec did not change (docs/recovery.md).
    Row(
        "Recovery: cluster lost, a checkpoint recorded",
        app(),
        app(),
        Seen(job=None, cluster=False, job_status={"last_checkpoint": Snapshot(path=CHECKPOINT)}),
        action=Action.RECOVER,
        steps=("StartCluster", f"SubmitJob({CHECKPOINT})"),
    ),
    Row(
        "Recovery: cluster lost, no state anywhere",
        app(),
        app(),
        Seen(job=None, cluster=False),
        action=Action.BLOCKED,
    ),
    Row(
        "Recovery: stateless job, cluster lost",
        app(upgradeMode="stateless"),
        app(upgradeMode="stateless"),
        Seen(job=None, cluster=False),
        action=Action.RECOVER,
        steps=("StartCluster", "SubmitJob(empty)"),
        state_loss=True,
    ),
    Row("Recovery: job FAILED, restart.failed off", app(), app(), Seen(job="FAILED"), Action.NONE),
    Row(
        "Recovery: job FAILED, restart.failed on",
        app(config=RESTART_FAILED),
        app(config=RESTART_FAILED),
        Seen(job="FAILED"),
        action=Action.RECOVER,
        steps=(f"SubmitJob({CHECKPOINT})",),
    ),
    Row(
        "Recovery: job cancelled outside Git",
        app(),
        app(),
        Seen(job="CANCELED"),
        action=Action.RECOVER,
        steps=(f"SubmitJob({CHECKPOINT})",),
    ),
    Row("Recovery: job FINISHED (bounded)", app(), app(), Seen(job="FINISHED"), Action.NONE),
]


def _plan(row: Row) -> JobPlan | None:
    desired = [_Record(row.after)] if row.after is not None else []
    observed = {}
    if row.before is not None:
        observed[row.before.id] = _observed(row.before, row.seen)
    # Removing the only resource is a mass prune: the guard has its own tests below.
    guard = PruneGuard(allowed=row.after is None)
    plan = planning.plan_changes(desired, observed, prune=row.prune, prune_guard=guard)
    return plan.for_resource((row.after or row.before).id)  # type: ignore[union-attr]


@dataclass(frozen=True)
class _Record:
    resource: AnyResource
    file: str = "orders.yaml"


@pytest.mark.parametrize("row", ROWS, ids=[row.scenario for row in ROWS])
def test_scenario(row: Row) -> None:
    job = _plan(row)
    assert job is not None
    assert job.action is row.action, (job.blocked, job.risks)
    assert tuple(shape(step) for step in job.steps) == row.steps
    assert job.state_loss is row.state_loss
    if row.action is Action.BLOCKED:
        assert job.blocked


def test_new_flink_state_snapshot_takes_a_savepoint_of_the_job_it_references() -> None:
    plan = planning.plan_changes([_Record(snapshot())], {})
    [job] = plan.jobs
    assert job.action is Action.SAVEPOINT
    assert [(shape(s), s.target) for s in job.steps] == [("TakeSavepoint", app().id)]


def test_session_cluster_upgrade_stops_and_resubmits_its_jobs_through_savepoints() -> None:
    from gitflink.model.resources import FlinkSessionJob

    job = FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": "enrich"},
            "spec": {
                "deploymentName": "orders",
                "job": {"jarURI": "local:///e.jar", "parallelism": 1, "upgradeMode": "savepoint"},
            },
        }
    )
    before, after = session(), session(image="flink:1.20.1")
    observed = {before.id: _observed(before, Seen(job=None)), job.id: _observed(job, Seen())}
    plan = planning.plan_changes([_Record(after), _Record(job)], observed)
    cluster, carried = plan.for_resource(after.id), plan.for_resource(job.id)
    assert cluster is not None and carried is not None
    assert [(shape(s), s.target) for s in cluster.steps] == [
        (STOP_SP, job.id),
        ("StopCluster", after.id),
        ("StartCluster", after.id),
        (TAKEN, job.id),
    ]
    assert carried.carried_by == after.id and carried.steps == ()


def test_a_session_job_stopped_before_its_savepoint_was_recorded_is_carried_by_the_cluster() -> (
    None
):
    """Found by the crash matrix: killed after the stop-with-savepoint of a session cluster's
    upgrade, the restarted plan restarted the cluster without the job, whose savepoint only the
    old cluster could name."""
    from gitflink.model.resources import FlinkSessionJob

    job = FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": "enrich"},
            "spec": {
                "deploymentName": "orders",
                "job": {"jarURI": "local:///e.jar", "parallelism": 1, "upgradeMode": "savepoint"},
            },
        }
    )
    before, after = session(), session(image="flink:1.20.1")
    stopped = Seen(job="FINISHED", pending={"action": "restart"})
    observed = {before.id: _observed(before, Seen(job=None)), job.id: _observed(job, stopped)}
    plan = planning.plan_changes([_Record(after), _Record(job)], observed)
    cluster = plan.for_resource(after.id)
    assert cluster is not None
    assert [(shape(s), s.target) for s in cluster.steps] == [
        (STOP_SP, job.id),
        ("StopCluster", after.id),
        ("StartCluster", after.id),
        (TAKEN, job.id),
    ]


def test_a_session_cluster_restarted_before_an_interruption_is_not_restarted_again() -> None:
    """Found by the crash matrix: killed after a session job was resubmitted into the upgraded
    cluster, the restarted pass upgraded the cluster again, stopping the new job."""
    from gitflink.model.resources import FlinkSessionJob

    job = FlinkSessionJob.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": "enrich"},
            "spec": {
                "deploymentName": "orders",
                "job": {"jarURI": "local:///e.jar", "parallelism": 1, "upgradeMode": "savepoint"},
            },
        }
    )
    before, after = session(), session(image="flink:1.20.1")
    target = after.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    cluster_seen = Seen(job=None, pending={"targetSpec": target})
    resubmitted = Seen(
        job_status={"job_id": "j2", "generation": 2, "upgrade_savepoint_path": "file:///sp/1"},
        pending={"action": "restart", "submittedJobId": "j2", "generation": 2},
    )
    observed = {before.id: _observed(before, cluster_seen), job.id: _observed(job, resubmitted)}
    plan = planning.plan_changes([_Record(after), _Record(job)], observed)
    cluster, own = plan.for_resource(after.id), plan.for_resource(job.id)
    assert cluster is not None and own is not None
    assert [shape(s) for s in cluster.steps] == ["RecordSpec"]
    assert [shape(s) for s in own.steps] == ["SubmitJob(adopt)"] and own.carried_by is None


def test_a_resource_with_an_error_gets_no_plan_and_is_never_pruned() -> None:
    before = app()
    problem = Problem("orders.yaml", 3, 1, "spec", "broken", resource=before.id)
    plan = planning.plan_changes([], {before.id: _observed(before, Seen())}, problems=[problem])
    assert plan.for_resource(before.id) is None


def test_a_file_with_an_error_naming_no_resource_holds_back_deletions() -> None:
    before: ResourceId = app().id
    problem = Problem("orders.yaml", 0, 0, "", "not YAML")
    observed = {before: _observed(app(), Seen())}
    plan = planning.plan_changes(
        [], observed, problems=[problem], known_files={before: "orders.yaml"}
    )
    assert plan.for_resource(before) is None


def _apps(*names: str) -> list[FlinkDeployment]:
    return [
        FlinkDeployment.model_validate(
            {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkDeployment",
                "metadata": {"name": name},
                "spec": app().spec.model_dump(by_alias=True),
            }
        )
        for name in names
    ]


@pytest.mark.parametrize(
    ("kept", "guard", "blocked"),
    [
        (2, PruneGuard(), False),  # 2 of 4 removed: 50% is not more than half
        (1, PruneGuard(), True),  # 3 of 4
        (0, PruneGuard(), True),  # every manifest gone
        (0, PruneGuard(allowed=True), False),
        (1, PruneGuard(max_share=0.8), False),
    ],
)
def test_a_mass_prune_is_refused_unless_allowed(
    kept: int, guard: PruneGuard, blocked: bool
) -> None:
    deployed = _apps("a", "b", "c", "d")
    observed = {r.id: _observed(r, Seen()) for r in deployed}
    plan = planning.plan_changes([_Record(r) for r in deployed[:kept]], observed, prune_guard=guard)
    removed = [job for job in plan.jobs if job.resource not in {r.id for r in deployed[:kept]}]
    assert len(removed) == 4 - kept
    if blocked:
        assert all(job.action is Action.BLOCKED and not job.steps for job in removed)
        assert all("mass prune refused" in (job.blocked or "") for job in removed)
    else:
        assert all(job.action is Action.DELETE for job in removed)


def test_removing_the_last_single_resource_is_refused_as_an_empty_repository() -> None:
    [only] = _apps("a")
    plan = planning.plan_changes([], {only.id: _observed(only, Seen())})
    [job] = plan.jobs
    assert job.action is Action.BLOCKED and "no Flink manifests are left" in (job.blocked or "")


def test_a_new_deploy_is_rendered_as_new_state_not_kept() -> None:
    from gitflink.core.plan_rendering import render_text

    fresh = planning.plan_changes([_Record(app())], {})
    restored = planning.plan_changes([_Record(app(initialSavepointPath=SAVEPOINT))], {})
    assert "state=new" in render_text(fresh) and "state=kept" not in render_text(fresh)
    assert "state=restored" in render_text(restored)


def test_the_session_cluster_note_names_only_the_jobs_it_carries_through_a_savepoint() -> None:
    from gitflink.model.resources import FlinkSessionJob

    def job(name: str, mode: str) -> FlinkSessionJob:
        return FlinkSessionJob.model_validate(
            {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkSessionJob",
                "metadata": {"name": name},
                "spec": {
                    "deploymentName": "orders",
                    "job": {"jarURI": "local:///e.jar", "parallelism": 1, "upgradeMode": mode},
                },
            }
        )

    kept, empty = job("kept", "savepoint"), job("empty", "stateless")
    before, after = session(), session(image="flink:1.20.1")
    observed = {before.id: _observed(before, Seen(job=None))}
    observed |= {j.id: _observed(j, Seen()) for j in (kept, empty)}
    plan = planning.plan_changes([_Record(after), _Record(kept), _Record(empty)], observed)
    cluster = plan.for_resource(after.id)
    assert cluster is not None
    assert "session jobs stopped with a savepoint and resubmitted: default/kept" in cluster.notes
    assert any("empty state: default/empty" in risk for risk in cluster.risks)
