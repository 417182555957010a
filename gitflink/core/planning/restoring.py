"""How a job that restarts is stopped and where its state comes back from: one decision, as a
value (after the operator's JobUpgrade), for upgrades, restarts, resumes and recoveries.

Never from savepoint or last-state to stateless: when no state is known, the decision is
`unavailable` and the plan stops for a human.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitflink.core.planning.facts import Facts
from gitflink.model.plan import Restore, RestoreSource
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import Snapshot, SnapshotKind

FLINK_VERSION = "spec.flinkVersion"


@dataclass(frozen=True, slots=True)
class JobUpgrade:
    """The decision. `stop`: how the running job stops (None: nothing runs to stop);
    `restore`: where the next job's state comes from (None: empty); `mode`: the upgrade mode
    really used; `blocked`: why no safe way exists; `discarded`: the state was already given up
    by an earlier choice (suspended stateless), so starting empty loses nothing now."""

    mode: UpgradeMode | None
    stop: UpgradeMode | None = None
    restore: Restore | None = None
    risks: tuple[str, ...] = ()
    blocked: str | None = None
    discarded: bool = False

    @property
    def state_loss(self) -> bool:
        return self.blocked is None and self.mode is UpgradeMode.STATELESS and not self.discarded


def at(path: str) -> Restore:
    return Restore(RestoreSource.PATH, path)


def taken() -> Restore:
    """The savepoint or checkpoint this plan's StopJob step records."""
    return Restore(RestoreSource.TAKEN)


def initial(facts: Facts) -> Restore | None:
    path = facts.job.initial_savepoint_path if facts.job else None
    return at(path) if path else None


def decide(facts: Facts) -> JobUpgrade:
    """A job whose spec needs a restart: stop it per upgradeMode if it runs, else start it from
    the newest state known."""
    return running(facts) if facts.live_running else stopped(facts)


def running(facts: Facts) -> JobUpgrade:
    mode = facts.mode
    if mode is UpgradeMode.STATELESS:
        risk = "upgradeMode is stateless: the job restarts with empty state"
        return JobUpgrade(mode, stop=mode, risks=(risk,))
    if mode is UpgradeMode.LAST_STATE and facts.changed(FLINK_VERSION):
        # HA metadata and checkpoints may not carry across Flink versions.
        risk = "flinkVersion changes: a savepoint is taken instead of last-state"
        return JobUpgrade(
            UpgradeMode.SAVEPOINT, stop=UpgradeMode.SAVEPOINT, restore=taken(), risks=(risk,)
        )
    return JobUpgrade(mode, stop=mode, restore=taken())


def stopped(facts: Facts) -> JobUpgrade:
    """Not running: nothing to stop and no savepoint to take. The state recorded for the next
    start, else the newest checkpoint, else the last savepoint."""
    mode, job_status = facts.mode, facts.status.job_status
    first = _empty_or_recorded(facts)
    if first is not None:
        return first
    checkpoint = _checkpoint(facts)
    if checkpoint:
        risks: tuple[str, ...] = ()
        if mode is UpgradeMode.SAVEPOINT:
            risks = (
                "the job is not running, so no savepoint can be taken: "
                f"falling back to last-state from checkpoint {checkpoint}",
            )
        return JobUpgrade(UpgradeMode.LAST_STATE, restore=at(checkpoint), risks=risks)
    if job_status.last_savepoint:
        risk = (
            f"restoring from the last savepoint {job_status.last_savepoint.path}: "
            "progress since then is replayed from the sources"
        )
        return JobUpgrade(mode, restore=at(job_status.last_savepoint.path), risks=(risk,))
    return unavailable(facts)


def resumed(facts: Facts) -> JobUpgrade:
    """Resume from suspended: the savepoint or checkpoint recorded when it was suspended."""
    mode = facts.mode
    if mode is UpgradeMode.STATELESS:
        return JobUpgrade(mode)
    suspended = facts.deployed_job
    if suspended is not None and suspended.upgrade_mode is UpgradeMode.STATELESS:
        # As upstream: suspending with stateless cancelled the job and discarded its state, so
        # it resumes empty whatever the mode says now.
        risk = (
            "the job was suspended with upgradeMode: stateless, which discarded its state: "
            f"it resumes with empty state ({mode} applies from the next upgrade on)"
        )
        return JobUpgrade(UpgradeMode.STATELESS, risks=(risk,), discarded=True)
    job_status = facts.status.job_status
    if job_status.upgrade_savepoint_path:
        return JobUpgrade(mode, restore=at(job_status.upgrade_savepoint_path))
    savepoint, checkpoint = job_status.last_savepoint, job_status.last_checkpoint
    if mode is UpgradeMode.SAVEPOINT:
        if savepoint:
            return JobUpgrade(mode, restore=at(savepoint.path))
        if checkpoint:
            risk = f"no savepoint recorded: falling back to last-state from {checkpoint.path}"
            return JobUpgrade(UpgradeMode.LAST_STATE, restore=at(checkpoint.path), risks=(risk,))
        return unavailable(facts)
    newest = _newest(savepoint, checkpoint)
    return JobUpgrade(mode, restore=at(newest.path)) if newest else unavailable(facts)


def recovered(facts: Facts) -> JobUpgrade:
    """A job that is gone or failed while its spec did not change (a lost cluster, a failed
    job restarted): the state recorded for the next start, else the newest of the job's latest
    completed checkpoint and the last recorded savepoint."""
    mode, job_status = facts.mode, facts.status.job_status
    first = _empty_or_recorded(facts)
    if first is not None:
        return first
    job = facts.observed.job
    live = job.latest_checkpoint or job.restored_from if job is not None else None
    if live:
        # Flink still knows the job: its latest checkpoint (or, before its first one, the
        # state it started from) is newer than anything recorded.
        return JobUpgrade(UpgradeMode.LAST_STATE, restore=at(live))
    retained = facts.observed.retained_checkpoint
    current = job_status.last_checkpoint
    if current is not None and current.job_id not in (None, job_status.job_id):
        current = None  # an earlier job's checkpoint: older than the savepoint that followed it
    started = job_status.restored_from
    if started is not None and started.job_id not in (None, job_status.job_id):
        started = None
    # The job's own retained checkpoint, else what it started from (it may have died before
    # its first checkpoint), else the last savepoint: whichever holds the most progress.
    newest = _newest(job_status.last_savepoint, current, started, retained)
    if newest is None:
        return unavailable(facts)
    kept = UpgradeMode.LAST_STATE if newest.kind is SnapshotKind.CHECKPOINT else mode
    risks: tuple[str, ...] = ()
    if newest is job_status.last_savepoint:
        risks = (
            f"restoring from the last savepoint {newest.path}: progress since then is replayed "
            "from the sources",
        )
    return JobUpgrade(kept, restore=at(newest.path), risks=risks)


def _empty_or_recorded(facts: Facts) -> JobUpgrade | None:
    """A job that is not running starts empty when stateless, else from the state recorded
    for its next start (a stop that completed before an interruption); None: look further."""
    mode, recorded = facts.mode, facts.status.job_status.upgrade_savepoint_path
    if mode is UpgradeMode.STATELESS:
        return JobUpgrade(
            mode, risks=("upgradeMode is stateless: the job starts with empty state",)
        )
    return JobUpgrade(mode, restore=at(recorded)) if recorded else None


def unavailable(facts: Facts) -> JobUpgrade:
    reason = (
        "manual restore required: the job is not running and no savepoint or checkpoint is "
        f"known, and {facts.mode} mode never falls back to stateless. Set "
        "job.initialSavepointPath and change job.savepointRedeployNonce to choose a savepoint, "
        "or set upgradeMode: stateless to start with empty state"
    )
    return JobUpgrade(None, blocked=reason)


def _checkpoint(facts: Facts) -> str | None:
    """The newest checkpoint-like state of a job that is not running: Flink's latest, the one
    storage retains, what the job started from (dead before its first), the one recorded."""
    live = facts.observed.job.latest_checkpoint if facts.observed.job else None
    retained = facts.observed.retained_checkpoint
    started = facts.status.job_status.restored_from
    recorded = facts.status.job_status.last_checkpoint
    found = (live, *(s.path if s else None for s in (retained, started, recorded)))
    return next((path for path in found if path), None)


def _newest(*snapshots: Snapshot | None) -> Snapshot | None:
    present = [s for s in snapshots if s is not None]
    if not present:
        return None
    dated = [s for s in present if s.taken_at is not None]
    if len(dated) == len(present):
        return max(dated, key=lambda s: s.taken_at or 0)
    return present[-1]  # undated: prefer the checkpoint, usually the more recent
