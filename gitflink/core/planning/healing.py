"""What runs is not what Git says, though the spec did not change: a lost cluster, lost
TaskManagers, a job Flink gave up on, a job cancelled or rescaled outside Git. Each is a
difference to converge like a changed field (docs/recovery.md); state is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gitflink.core.planning import restarted, restoring
from gitflink.core.planning.facts import SCHEDULER_KEY, Facts, Healing
from gitflink.core.planning.restarting import restart
from gitflink.model.plan import Action, AwaitJob, Downtime, JobPlan, Rescale, StartCluster, Step
from gitflink.model.resources import JobSpec

RESTART_FAILED = "kubernetes.operator.job.restart.failed"
__all__ = ["Healing", "cluster", "heal"]


def heal(facts: Facts) -> JobPlan | None:
    """The plan for a running job whose spec did not change, when what Flink reports differs;
    None when it runs as Git says (or Flink is busy restoring it by itself). A recovery soon
    after the last one waits for its backoff: a crash loop never hammers the cluster."""
    plan = _differences(facts)
    return _backed_off(facts, plan) if plan is not None else None


def _backed_off(facts: Facts, plan: JobPlan) -> JobPlan:
    if plan.action is not Action.RECOVER:
        return plan
    recovery = facts.status.recovery
    attempts = recovery.attempts if recovery else 0
    due = facts.healing.due(attempts, recovery.last_attempt_at if recovery else None)
    if due is None:
        return plan
    note = f"restart attempt {attempts + 1} backs off until {due.isoformat()}"
    return facts.plan(Action.NONE, notes=(note,), drift=plan.drift)


def _differences(facts: Facts) -> JobPlan | None:
    observed, job = facts.observed, facts.observed.job
    if job is None and facts.status.job_status.state == "FINISHED":
        # A bounded job that ran to its end, then its cluster went: nothing to bring back.
        return facts.plan(Action.NONE, notes=("the job finished; a finished job stays finished",))
    if facts.is_deployment and not observed.cluster_running:
        return _recover(facts, "the Flink cluster is gone (no JobManager answers)")
    if job is None:
        if not observed.cluster_running:
            return _recover(facts, "its session cluster is gone")
        return _recover(facts, "the job is gone from its cluster")
    regressed = restarted.regressed(facts)
    if regressed is not None:
        return _outside_git(facts, regressed, restarted.converge)
    if observed.cluster_degraded and facts.is_deployment:
        drift = f"TaskManagers lost: {observed.cluster_degraded}"
        if job.is_terminal:
            return _recover(facts, f"{drift}, and the job is {job.state}")
        # Flink may not have noticed the loss yet: wait for every task either way.
        steps: tuple[Step, ...] = (StartCluster(facts.resource), AwaitJob(facts.resource))
        note = "Flink restarts the job itself once slots return: nothing is resubmitted"
        return facts.plan(Action.RECOVER, steps, notes=(note,), drift=drift)
    if job.state == "FAILED":
        return _failed(facts)
    if job.state == "CANCELED":
        return _outside_git(facts, f"job {job.job_id} was cancelled outside Git", _recover)
    if job.state == "FINISHED" and job.stopped_with_savepoint:
        drift = f"job {job.job_id} was stopped with a savepoint outside Git"
        return _outside_git(facts, drift, _recover)
    if job.state == "FINISHED":
        return facts.plan(Action.NONE, notes=("the job finished; a finished job stays finished",))
    if not job.is_running:
        return facts.plan(Action.NONE, notes=(f"job is {job.state}, not running",))
    wanted = facts.job.parallelism if facts.job else None
    if wanted and job.parallelism is not None and job.parallelism != wanted:
        drift = f"job runs at parallelism {job.parallelism}, Git says {wanted}"
        return _outside_git(facts, drift, _rescale)
    if observed.stray_jobs:
        jobs = ", ".join(observed.stray_jobs)
        note = "jobs gitflink did not submit are never cancelled by it: stop them by hand"
        return facts.plan(
            Action.NONE, notes=(note,), drift=f"other jobs run in the cluster: {jobs}"
        )
    return None


def cluster(facts: Facts) -> JobPlan | None:
    """A session cluster (no job of its own) that is gone or lost TaskManagers."""
    observed = facts.observed
    if not observed.cluster_running:
        drift = "the Flink cluster is gone (no JobManager answers)"
    elif observed.cluster_degraded:
        drift = f"TaskManagers lost: {observed.cluster_degraded}"
    else:
        return None
    notes = ("its session jobs are resubmitted by their own plans",)
    return facts.plan(Action.RECOVER, (StartCluster(facts.resource),), notes=notes, drift=drift)


def _failed(facts: Facts) -> JobPlan:
    job = facts.observed.job
    assert job is not None
    failure = f"job {job.job_id} FAILED: {job.failure or 'no exception reported'}"
    setting = facts.config(RESTART_FAILED)
    restarts = facts.healing.restart_failed if setting is None else setting.lower() == "true"
    if not restarts:
        note = (
            f"{RESTART_FAILED} is false: the job stays FAILED until the spec changes, which "
            "then restarts it from its latest checkpoint"
        )
        return facts.plan(Action.NONE, notes=(note,), drift=failure)
    return _recover(facts, failure)


def _outside_git(facts: Facts, drift: str, converge: Callable[[Facts, str], JobPlan]) -> JobPlan:
    if not facts.healing.self_heal:
        note = "self-heal is off: the difference is reported, not converged"
        return facts.plan(Action.NONE, notes=(note,), drift=drift)
    return converge(facts, drift)


def _recover(facts: Facts, drift: str) -> JobPlan:
    """Start what is gone again from the newest state known; never empty for a stateful job."""
    decision = restoring.recovered(facts)
    if decision.blocked is not None:
        return facts.plan(Action.BLOCKED, blocked=decision.blocked, drift=drift)
    steps: list[Step] = []
    if facts.is_deployment and (
        not facts.observed.cluster_running or facts.observed.cluster_degraded
    ):
        steps.append(StartCluster(facts.resource))
    steps.append(facts.submit(decision.restore))
    return facts.plan(
        Action.RECOVER,
        tuple(steps),
        mode=decision.mode,
        state_loss=decision.state_loss,
        downtime=Downtime.RESTART,
        risks=decision.risks,
        drift=drift,
    )


def _rescale(facts: Facts, drift: str) -> JobPlan:
    """Back to Git's parallelism: in place where the adaptive scheduler allows, else by an
    upgrade per upgradeMode."""
    spec = facts.job
    assert isinstance(spec, JobSpec) and spec.parallelism
    if facts.config(SCHEDULER_KEY) == "adaptive":
        steps: tuple[Step, ...] = (Rescale(facts.resource, spec.parallelism),)
        return facts.plan(Action.RECOVER, steps, downtime=Downtime.RESCALE, drift=drift)
    return replace(restart(facts, Action.RECOVER, restoring.decide(facts)), drift=drift)
