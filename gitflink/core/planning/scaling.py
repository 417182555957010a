"""SCALE changes: when a running job can be rescaled in place, and why it otherwise restarts.

In place means Flink's adaptive scheduler (1.18+) through the resource-requirements API, or more
TaskManagers joining a running cluster. Everything else is a full upgrade (docs/planning.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitflink.core.planning.facts import SCHEDULER_KEY, Facts
from gitflink.model.diffkind import DiffKind
from gitflink.model.plan import Rescale, StartCluster, Step

PARALLELISM = "spec.job.parallelism"
REPLICAS = "spec.taskManager.replicas"
OVERRIDES = "spec.flinkConfiguration[pipeline.jobvertex-parallelism-overrides]"
IN_PLACE_MINIMUM = (1, 18)
# From 2.0 the adaptive scheduler takes a checkpoint before it rescales (FLIP-461); 1.x restarts
# the job from its latest completed checkpoint, or from nothing when there is none yet.
CHECKPOINTS_FIRST = (2, 0)


@dataclass(frozen=True, slots=True)
class InPlace:
    """The steps of an in-place rescale, and what is worth saying about them."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the change restarts the job; `state` when rescaling in place would lose state."""

    reason: str
    state: bool = False


def in_place(facts: Facts, *, checkpoint_first: bool = False) -> InPlace | Refusal:
    """The steps of an in-place rescale, or why there is none.

    `checkpoint_first`: the same change takes a checkpoint before the rescale (a nonce).
    """
    scaled = {change.path: change for change in facts.changes if change.kind is DiffKind.SCALE}
    if OVERRIDES in scaled:
        # The embedded runtime gives flinkConfiguration to the cluster: a new value needs a
        # cluster that was started with it, and a rescale here would be undone by the next one.
        return Refusal("pipeline.jobvertex-parallelism-overrides is read when the job starts")
    other = sorted(set(scaled) - {PARALLELISM, REPLICAS})
    if other:
        return Refusal(f"{', '.join(other)} cannot change in place")
    version = facts.flink_version()
    if version is None:
        return Refusal("the Flink version is unknown; in-place rescale needs 1.18 or later")
    if version < IN_PLACE_MINIMUM:
        return Refusal(f"in-place rescale needs Flink 1.18 or later, not {_text(version)}")
    if (facts.config(SCHEDULER_KEY) or "").lower() != "adaptive":
        return Refusal(f"in-place rescale needs {SCHEDULER_KEY}: adaptive")
    if not facts.live_running:
        return Refusal("the job is not running")
    steps: list[Step] = []
    notes: list[str] = []
    replicas = scaled.get(REPLICAS)
    if replicas is not None:
        before, after = replicas.before, replicas.after
        if not (isinstance(before, int) and isinstance(after, int) and after > before):
            # TaskManagers that go away take running tasks with them: Flink would restart the
            # job from its latest checkpoint, so the cluster is restarted per upgradeMode.
            return Refusal("taskManager.replicas does not grow: only added TaskManagers join")
        # New TaskManagers only add slots; the job keeps running at its parallelism.
        notes.append(f"{after - before} TaskManager(s) join the running cluster")
        steps.append(StartCluster(facts.resource))
    if PARALLELISM in scaled:
        parallelism = facts.job.parallelism if facts.job else None
        if parallelism is None:
            return Refusal("job.parallelism is unset: the job's parallelism comes from the cluster")
        job = facts.observed.job
        checkpoint = job.latest_checkpoint if job else None
        if version < CHECKPOINTS_FIRST:
            if checkpoint is None and not checkpoint_first:
                return Refusal(
                    f"Flink {_text(version)} restarts a rescaled job from its latest checkpoint "
                    "and this job has completed none yet: rescaling in place would lose its "
                    "state, so the job is upgraded per upgradeMode instead",
                    state=True,
                )
            source = "the checkpoint taken first" if checkpoint_first else checkpoint
            notes.append(f"Flink {_text(version)} restores the rescaled job from {source}")
        steps.append(Rescale(facts.resource, parallelism))
    return InPlace(tuple(steps), tuple(notes))


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"
