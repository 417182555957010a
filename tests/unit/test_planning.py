"""Planning rules that need live status: interrupted plans, stopped jobs, never losing state."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.planning_builders import Record, deployment, status

from gitflink.core import planning
from gitflink.core.planning import baseline as planning_baseline
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import (
    Action,
    Baseline,
    JobPlan,
    Plan,
    Restore,
    RestoreSource,
    StartCluster,
    StopCluster,
    StopJob,
    SubmitJob,
)
from gitflink.model.resources import FlinkDeployment, UpgradeMode
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationState,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
    SnapshotKind,
)


def plan_one(desired: FlinkDeployment, observed: Observed) -> JobPlan:
    plan = planning.plan_changes([Record(desired)], {desired.id: observed})
    (job,) = plan.jobs
    return job


CHANGED = {"args": ["--v2"]}


def test_job_not_running_with_nothing_known_stops_with_manual_restore() -> None:
    old = deployment("savepoint")
    job = plan_one(deployment("savepoint", **CHANGED), Observed(status(old), cluster_running=True))
    assert job.action is Action.BLOCKED
    assert job.blocked is not None and "manual restore required" in job.blocked
    assert job.steps == ()


def test_last_state_job_not_running_without_checkpoint_is_blocked_not_stateless() -> None:
    old = deployment("last-state")
    failed = LiveJob("j1", "FAILED")
    job = plan_one(deployment("last-state", **CHANGED), Observed(status(old), job=failed))
    assert job.action is Action.BLOCKED
    assert not job.state_loss


def test_savepoint_mode_with_stopped_job_falls_back_to_a_known_checkpoint() -> None:
    old = deployment("savepoint")
    failed = LiveJob("j1", "FAILED", latest_checkpoint="file:///ck/chk-9")
    job = plan_one(deployment("savepoint", **CHANGED), Observed(status(old), job=failed))
    assert job.action is Action.UPGRADE
    assert job.upgrade_mode is UpgradeMode.LAST_STATE
    assert job.steps[-1] == SubmitJob(job.resource, Restore(RestoreSource.PATH, "file:///ck/chk-9"))
    assert any("falling back to last-state" in risk for risk in job.risks)


def test_interrupted_upgrade_with_recorded_savepoint_resubmits_without_a_second_one() -> None:
    old, new = deployment("savepoint"), deployment("savepoint", **CHANGED)
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    interrupted = status(
        old,
        lifecycle_state=LifecycleState.UPGRADING,
        job_status=JobStatus(upgrade_savepoint_path="file:///sp/savepoint-1"),
        pending=PendingChange(action="upgrade", target_spec=target),
    )
    job = plan_one(new, Observed(interrupted, cluster_running=False))
    assert job.action is Action.UPGRADE
    assert job.steps == (
        StartCluster(job.resource),
        SubmitJob(job.resource, Restore(RestoreSource.PATH, "file:///sp/savepoint-1")),
    )
    assert not any(isinstance(step, StopJob) for step in job.steps)


def test_an_interrupted_last_state_upgrade_restores_the_newer_checkpoint() -> None:
    """Found by the crash matrix: killed after the cancel, before recording the checkpoint that
    completed meanwhile, the resumed upgrade restored the recorded one, which Flink had
    already subsumed (FileNotFoundException)."""
    old, new = deployment("last-state"), deployment("last-state", **CHANGED)
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    recorded = Snapshot(path="file:///ck/j1/chk-3", kind=SnapshotKind.CHECKPOINT, job_id="j1")
    interrupted = status(
        old,
        job_status=JobStatus(job_id="j1", upgrade_savepoint_path=recorded.path),
        pending=PendingChange(action="upgrade", target_spec=target, stop_snapshot=recorded),
    )
    cancelled = LiveJob("j1", "CANCELED", latest_checkpoint="file:///ck/j1/chk-4")
    job = plan_one(new, Observed(interrupted, cluster_running=True, job=cancelled))
    assert job.steps[-1] == SubmitJob(
        job.resource, Restore(RestoreSource.PATH, cancelled.latest_checkpoint)
    )


def test_job_submitted_before_an_interruption_is_verified_by_an_ordinary_submit_step() -> None:
    old, new = deployment("savepoint"), deployment("savepoint", **CHANGED)
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    done = status(
        old,
        job_status=JobStatus(job_id="j2", generation=2, upgrade_savepoint_path="file:///sp/1"),
        pending=PendingChange(
            action="upgrade", target_spec=target, submitted_job_id="j2", generation=2
        ),
    )
    done.reconciliation.state = ReconciliationState.UPGRADING
    live = LiveJob("j2", "RUNNING", all_vertices_running=True, restored_from="file:///sp/1")
    job = plan_one(new, Observed(done, cluster_running=True, job=live))
    assert job.action is Action.UPGRADE
    # The same step (and so the same restore verification) as an uninterrupted upgrade.
    restore = Restore(RestoreSource.PATH, "file:///sp/1")
    assert job.steps == (SubmitJob(job.resource, restore, adopt="j2"),)
    assert job.applies is None  # Git did not move: the desired spec is recorded


def test_interrupted_change_is_finished_for_its_own_spec_when_git_moved_on() -> None:
    old, new = deployment("savepoint"), deployment("savepoint", **CHANGED)
    newer = deployment("savepoint", args=["--v3"])
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    done = status(
        old,
        job_status=JobStatus(job_id="j2", generation=2, upgrade_savepoint_path="file:///sp/1"),
        pending=PendingChange(action="upgrade", target_spec=target, submitted_job_id="j2"),
    )
    live = LiveJob("j2", "RUNNING", all_vertices_running=True)
    job = plan_one(newer, Observed(done, cluster_running=True, job=live))
    assert [type(step) for step in job.steps] == [SubmitJob]
    assert job.applies == target, "the job runs the interrupted change's spec, not Git's newest"
    assert any("Git changed since" in note for note in job.notes)


def test_a_running_job_that_is_not_the_submitted_one_is_never_taken_as_the_upgrade() -> None:
    """The crash path is as strict as the normal one: only the job id the write-ahead record
    saved before the submission counts, never a step's description."""
    old, new = deployment("savepoint"), deployment("savepoint", **CHANGED)
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    interrupted = status(
        old,
        job_status=JobStatus(job_id="j1", generation=1),
        pending=PendingChange(action="upgrade", target_spec=target),
    )
    live = LiveJob("j1", "RUNNING", all_vertices_running=True, restored_from="file:///other")
    job = plan_one(new, Observed(interrupted, cluster_running=True, job=live))
    assert [type(step) for step in job.steps] == [StopJob, SubmitJob], "planned afresh"
    assert not any(isinstance(s, SubmitJob) and s.adopt for s in job.steps)


def test_old_job_still_running_after_an_interrupted_plan_is_planned_afresh() -> None:
    old, new = deployment("savepoint"), deployment("savepoint", **CHANGED)
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    pending = status(old, pending=PendingChange(action="upgrade", target_spec=target))
    live = LiveJob("j1", "RUNNING", all_vertices_running=True)
    job = plan_one(new, Observed(pending, cluster_running=True, job=live))
    assert job.steps[0] == StopJob(job.resource, UpgradeMode.SAVEPOINT)


def test_a_suspend_killed_before_recording_its_savepoint_records_it_first() -> None:
    """Found by the crash matrix: the restarted suspend stopped the cluster without the
    savepoint its stop had taken, so resume would have restored an older one."""
    old, new = deployment("savepoint"), deployment("savepoint", state="suspended")
    target = new.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    interrupted = status(
        old,
        job_status=JobStatus(job_id="j1", generation=1),
        pending=PendingChange(action="suspend", target_spec=target),
    )
    stopped = LiveJob("j1", "FINISHED", stopped_with_savepoint=True)
    job = plan_one(new, Observed(interrupted, cluster_running=True, job=stopped))
    assert job.action is Action.SUSPEND
    assert job.steps == (StopJob(job.resource, UpgradeMode.SAVEPOINT), StopCluster(job.resource))


def test_resume_uses_the_savepoint_recorded_at_suspend() -> None:
    old = deployment("savepoint", state="suspended")
    recorded = status(
        old,
        lifecycle_state=LifecycleState.SUSPENDED,
        job_status=JobStatus(last_savepoint=Snapshot(path="file:///sp/at-suspend")),
    )
    job = plan_one(deployment("savepoint"), Observed(recorded))
    assert job.action is Action.RESUME
    assert job.steps[-1] == SubmitJob(
        job.resource, Restore(RestoreSource.PATH, "file:///sp/at-suspend")
    )


def test_resume_without_any_recorded_state_is_blocked() -> None:
    old = deployment("last-state", state="suspended")
    job = plan_one(deployment("last-state"), Observed(status(old)))
    assert job.action is Action.BLOCKED


def test_unreadable_last_applied_spec_blocks_only_that_resource() -> None:
    broken = ResourceStatus(reconciliation=ReconciliationStatus(last_applied_spec={"bogus": 1}))
    job = plan_one(deployment(), Observed(broken))
    assert job.action is Action.BLOCKED


def test_revision_baseline_with_no_change_plans_nothing() -> None:
    desired = [deployment(), deployment("last-state", state="suspended").model_copy()]
    observed = planning_baseline.observed_from_revision([desired[0]])
    plan = planning.plan_changes([Record(desired[0])], observed, baseline=Baseline.REVISION)
    assert [job.action for job in plan.jobs] == [Action.NONE]
    assert plan.baseline is Baseline.REVISION


# Properties: deterministic plans, and state is never restored as stateless.
modes = st.sampled_from(["stateless", "savepoint", "last-state"])
states = st.sampled_from(["running", "suspended"])
jobs_live = st.one_of(
    st.none(),
    st.builds(
        LiveJob,
        st.just("j"),
        st.sampled_from(["RUNNING", "FAILED", "CANCELED"]),
        st.booleans(),
        st.none(),
        st.one_of(st.none(), st.just("file:///ck/1")),
    ),
)
snapshots = st.one_of(
    st.none(), st.just(Snapshot(path="file:///sp/2", kind=SnapshotKind.SAVEPOINT))
)
scenario = st.tuples(
    modes,
    modes,
    states,
    states,
    st.integers(1, 4),
    st.sampled_from(["flink:1.20", "flink:2.0"]),
    jobs_live,
    snapshots,
    st.booleans(),
)


def build(case: tuple[Any, ...]) -> tuple[FlinkDeployment, Observed]:
    old_mode, new_mode, old_state, new_state, parallelism, image, live, savepoint, cluster = case
    old = deployment(old_mode, state=old_state)
    new = deployment(new_mode, state=new_state, parallelism=parallelism)
    new = new.model_copy(update={"spec": new.spec.model_copy(update={"image": image})})
    recorded = status(old, job_status=JobStatus(last_savepoint=savepoint))
    return new, Observed(recorded, cluster_running=cluster, job=live)


@settings(max_examples=300, deadline=None)
@given(scenario)
def test_planning_is_deterministic(case: tuple[Any, ...]) -> None:
    new, observed = build(case)
    first = planning.plan_changes([Record(new)], {new.id: observed})
    again = planning.plan_changes([Record(new)], {new.id: observed})
    assert first == again


@settings(max_examples=300, deadline=None)
@given(scenario)
def test_no_plan_restores_a_stateful_job_as_stateless(case: tuple[Any, ...]) -> None:
    new, observed = build(case)
    plan: Plan = planning.plan_changes([Record(new)], {new.id: observed})
    (job,) = plan.jobs
    if new.spec.job is None or new.spec.job.upgrade_mode is UpgradeMode.STATELESS:
        return
    old_mode, _, old_state = case[0], case[1], case[2]
    if old_state == "suspended" and old_mode == "stateless":
        # Suspending stateless discarded the state already; the resume starts empty on purpose
        # (as upstream), and the plan says so without counting it as a loss of its own.
        assert not job.state_loss
        return
    for step in job.steps:
        if isinstance(step, SubmitJob):
            assert step.restore is not None, job
        if isinstance(step, StopJob):
            assert step.mode is not UpgradeMode.STATELESS, job
    assert not job.state_loss


def test_a_resource_declared_twice_is_planned_once() -> None:
    twice = [Record(deployment()), Record(deployment(), file="copy.yaml")]
    plan = planning.plan_changes(twice, {})
    assert [job.resource for job in plan.jobs] == [twice[0].resource.id]
