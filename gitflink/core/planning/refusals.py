"""Spec changes the operator refuses against the last applied spec: a deployment switching
between native and standalone mode, a session job moving to another cluster, and a new
flinkVersion for a job suspended from last-state (its checkpoint may not carry across)."""

from __future__ import annotations

from dataclasses import dataclass

from gitflink.core.planning.facts import Facts
from gitflink.model.resources import (
    DeploymentMode,
    FlinkDeploymentSpec,
    FlinkSessionJobSpec,
    JobState,
    UpgradeMode,
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The field whose change is refused (a dotted path) and why."""

    field: str
    reason: str


def refusal(facts: Facts) -> Refusal | None:
    """Why this change cannot be made, None when it can (only with a deployed spec)."""
    before, after = facts.deployed, facts.spec
    if isinstance(before, FlinkDeploymentSpec) and isinstance(after, FlinkDeploymentSpec):
        if reason := _mode_switch(before, after):
            return Refusal("spec.mode", reason)
        if reason := _version_after_last_state_suspend(before, after):
            return Refusal("spec.flinkVersion", reason)
    moved = (
        _moved(before, after)
        if isinstance(before, FlinkSessionJobSpec) and isinstance(after, FlinkSessionJobSpec)
        else None
    )
    return Refusal("spec.deploymentName", moved) if moved else None


def _moved(before: FlinkSessionJobSpec, after: FlinkSessionJobSpec) -> str | None:
    if before.deployment_name == after.deployment_name:
        return None
    return (
        f"deploymentName cannot change ({before.deployment_name} -> {after.deployment_name}), "
        "as upstream refuses: delete this FlinkSessionJob and create a new one on the other "
        "cluster (take a savepoint first to carry its state)"
    )


def _mode_switch(before: FlinkDeploymentSpec, after: FlinkDeploymentSpec) -> str | None:
    old, new = _mode(before), _mode(after)
    if old is new:
        return None
    return (
        f"cannot switch from {old.value} to {new.value} mode, as upstream refuses: "
        f"set spec.mode back to {before.mode.value if before.mode else 'unset (native)'}, or "
        "delete the FlinkDeployment and create it anew"
    )


def _mode(spec: FlinkDeploymentSpec) -> DeploymentMode:
    return spec.mode or DeploymentMode.NATIVE


def _version_after_last_state_suspend(
    before: FlinkDeploymentSpec, after: FlinkDeploymentSpec
) -> str | None:
    old_job, new_job = before.job, after.job
    if old_job is None or new_job is None or new_job.upgrade_mode is UpgradeMode.STATELESS:
        return None
    suspended_last_state = (
        old_job.state is JobState.SUSPENDED and old_job.upgrade_mode is UpgradeMode.LAST_STATE
    )
    if not suspended_last_state or before.flink_version == after.flink_version:
        return None
    old = before.flink_version.value if before.flink_version else "unset"
    return (
        f"flinkVersion cannot change ({old} -> {after.flink_version}) while the job is suspended "
        "from last-state: its checkpoint may not be readable by another Flink version. Resume it "
        "with the current flinkVersion, then change the version (a running last-state job "
        "upgrades through a savepoint)"
    )
