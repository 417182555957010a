"""The crash matrix's machinery: a Git repository on disk, a status store the helper process and
the test both open, a crashing pass (tests/support/crash_pass.py) and the checks made after the
restarted pass finished what the killed one started.

A `Workflow` is data: the Git tree of its n-th attempt and what must run afterwards. `run_matrix`
kills its pass at crash point 1, 2, ... until a pass ends without reaching the point: every
boundary the executed plans cross is covered, whatever steps they have.

`make test` takes every STRIDE-th point so that it stays within its time budget, starting at a
point that moves by one each day (OFFSET: 1 + OFFSET, 1 + OFFSET + STRIDE, ...), so that runs on
STRIDE days in a row cover every point between them; `make crash-matrix` sets
CRASH_MATRIX_STRIDE=1 and covers every point in one run (docs/recovery.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_git import GitStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.core.planning.removal import PruneGuard
from gitflink.model.ids import ResourceId, job_id_for
from gitflink.model.observed import TERMINAL
from gitflink.model.resources import UpgradeMode
from gitflink.model.status import LifecycleState, ResourceStatus
from gitflink.ports import FlinkApi, Ports
from gitflink.runtime.context import same_path
from gitflink.runtime.reconciler import run_pass
from gitflink.wiring import RestClients
from support.crash_pass import NO_CRASH, pass_config, status_store
from support.flink_fixtures import wait_for
from support.sync_flink_support import counter_gauge

HELPER = Path(__file__).parent / "crash_pass.py"
STRIDE = int(os.environ.get("CRASH_MATRIX_STRIDE", "6"))
OFFSET = int(os.environ.get("CRASH_MATRIX_OFFSET", str(date.today().toordinal() % STRIDE)))
Files = dict[str, bytes]
Before = tuple[ResourceStatus | None, dict[str, str]]  # the status, the jobs listed


@dataclass(frozen=True)
class Workflow:
    name: str
    resource: ResourceId  # whose job is checked
    cluster: ResourceId  # the FlinkDeployment that runs it
    tree: Callable[[int], Files]  # the whole Git tree of attempt n (n >= 1)
    ends: str = "running"  # or "suspended"
    restores: UpgradeMode | None = None  # the state the new job must start from (None: empty)
    reset: Callable[[int], Files] | None = None  # a tree synced, uncrashed, before attempt n
    # Brings the world, uncrashed, to where attempt n's pass starts (a rollback's: an upgrade
    # that failed); run once the job has state (a checkpoint), before `before` is taken.
    prepare: Callable[[World, int], None] | None = None
    # What must hold after attempt n instead of `check`'s rules for a job (a snapshot's own).
    verify: Callable[[World, Before, str, int], None] | None = None


@dataclass
class Crash:
    workflow: str
    point: int
    name: str


@dataclass
class World:
    repo: Path
    runtime: LocalRuntime
    status: str  # a status directory, or git:<url>#<cache>: as crash_pass.py takes it
    covered: list[Crash] = field(default_factory=list)

    def commit(self, files: Files) -> None:
        for old in self.repo.glob("*.yaml"):
            old.unlink()
        for name, data in files.items():
            (self.repo / name).write_bytes(data)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "--allow-empty", "-m", f"{sorted(files)}")

    def store(self) -> GitStatusStore | object:
        return status_store(self.status)  # a new instance: what a restarted process opens

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        return status_store(self.status).load(resource)

    def sync(self, *, prune_all: bool = False, ok: bool = True) -> None:
        """One pass in this process, as a restarted gitflink runs it; every resource must end ok
        (unless not `ok`: a change expected to fail, as a workflow's `prepare` makes one)."""
        store = status_store(self.status)
        clients = RestClients()
        ports = Ports(LocalRepository(self.repo), self.runtime, clients, store, SystemClock())
        try:
            result = run_pass(
                ports, replace(pass_config(), prune_guard=PruneGuard(allowed=prune_all))
            )
            if isinstance(store, GitStatusStore):
                store.flush()
        finally:
            clients.close()
        assert result.error is None, result.error
        failed = [(str(e.resource), e.error) for e in result.executions if not e.ok]
        assert not (ok and failed), failed

    def crash(self, at: int) -> str | None:
        """A pass in a helper process killed at crash point `at`: the point's name, or None
        when the pass ended before reaching it."""
        command = [sys.executable, str(HELPER), self.status, str(self.runtime.data_dir)]
        done = subprocess.run(
            [*command, str(self.repo), str(at)], check=False, capture_output=True, text=True
        )
        out = done.stdout + done.stderr
        if done.returncode == NO_CRASH:
            return None
        assert done.returncode == -signal.SIGKILL, out
        lines = [line for line in done.stdout.splitlines() if line.startswith("crash point ")]
        return lines[-1].split(": ", 1)[1]

    def jobs(self, workflow: Workflow) -> dict[str, str]:
        """{job id: state} of every job of the workflow's resource its cluster lists."""
        if self.runtime.find_cluster(workflow.cluster) is None:
            return {}
        ours = {job_id_for(workflow.resource, g) for g in range(1, 64)}
        listed = self.api(workflow.cluster).list_jobs()
        return {job.job_id: job.state for job in listed if job.job_id in ours}

    def api(self, cluster: ResourceId) -> FlinkApi:
        handle = self.runtime.find_cluster(cluster)
        assert handle is not None, cluster
        return RestClients()(handle.rest_url)


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def run_matrix(
    world: World, cycle: Sequence[Workflow], stride: int = STRIDE, offset: int = OFFSET
) -> None:
    """Attempt n of each workflow in turn (each one's end is the next one's start), killed at
    crash point 1 + offset + (n - 1) * stride, until every workflow's pass ends before it."""
    print(f"\ncrash points {1 + offset}, {1 + offset + stride}, ... of every workflow")
    exhausted: set[str] = set()
    n = 0
    while len(exhausted) < len(cycle):
        n += 1
        for workflow in cycle:
            if workflow.reset is not None:
                world.commit(workflow.reset(n))
                world.sync(prune_all=True)
            _settled(world, workflow)
            if workflow.prepare is not None:
                workflow.prepare(world, n)
            before = world.load(workflow.resource), world.jobs(workflow)
            world.commit(workflow.tree(n))
            at = 1 + offset + (n - 1) * stride
            point = None if workflow.name in exhausted else world.crash(at)
            if point is None:
                exhausted.add(workflow.name)
                world.sync()  # nothing left to finish, or a plain attempt: the workflow itself
            else:
                world.covered.append(Crash(workflow.name, at, point))
                world.sync()  # the restarted gitflink
            where = f"{workflow.name}, crash point {at}: {point or 'none'}"
            if workflow.verify is not None:
                workflow.verify(world, before, where, n)
            else:
                check(world, workflow, before, where)


def _settled(world: World, workflow: Workflow) -> None:
    """A running job has completed a checkpoint before it is changed: it has state to lose,
    and Flink accepts its savepoint (not while its tasks still start)."""
    status = world.load(workflow.resource)
    job = status.job_status.job_id if status is not None else None
    if job is not None and world.jobs(workflow).get(job) == "RUNNING":
        api = world.api(workflow.cluster)
        wait_for(lambda: api.checkpoints(job).latest_completed, 60.0, f"a checkpoint of {job}")


def check(world: World, workflow: Workflow, before: Before, where: str) -> None:
    """What must hold once the restarted pass is done: one job, and the only one submitted since
    (an upgrade's under the next generation), restored from the recorded snapshot of the job it
    replaced, never with empty state; a suspended job has its savepoint recorded."""
    status = world.load(workflow.resource)
    assert status is not None, where
    assert status.pending is None and status.error is None, (where, status.error)
    old = before[0].job_status if before[0] is not None else None
    listed = world.jobs(workflow)
    alive = sorted(job for job, state in listed.items() if state not in TERMINAL)
    if workflow.ends == "suspended":
        assert alive == [], where
        assert status.lifecycle_state is LifecycleState.SUSPENDED, where
        savepoint = status.job_status.last_savepoint
        assert old is not None and savepoint is not None and savepoint.job_id == old.job_id, where
        assert savepoints_of(savepoint.path, old.job_id) == 1, where
        return
    expected = status.job_status.job_id
    assert expected is not None, where
    only_new_job(world, workflow, before, expected, where)
    if workflow.restores is None:
        return
    assert old is not None and old.job_id is not None, where
    api = world.api(workflow.cluster)
    recorded = status.job_status.restored_from
    restored = api.checkpoints(expected).restored
    assert recorded is not None and same_path(restored, recorded.path), (where, restored)
    if workflow.restores is UpgradeMode.SAVEPOINT:
        savepoint = status.job_status.last_savepoint
        assert savepoint is not None and savepoint.job_id == old.job_id, where
        assert same_path(savepoint.path, restored), (where, savepoint.path, restored)
        assert savepoints_of(savepoint.path, old.job_id) == 1, where
    else:
        assert f"/{old.job_id}/chk-" in (restored or ""), (where, restored)
    not_restarted_empty(api, expected, where)


def only_new_job(world: World, workflow: Workflow, before: Before, job: str, where: str) -> None:
    """`job` is the one job of the resource alive, the only one submitted since `before`, and
    under the generation after the one recorded then."""
    listed = world.jobs(workflow)
    alive = sorted(other for other, state in listed.items() if state not in TERMINAL)
    assert alive == [job], (where, listed)
    assert sorted(set(listed) - set(before[1])) == [job], (where, "a second submission")
    old = before[0].job_status if before[0] is not None else None
    if old is not None and old.job_id is not None:
        assert job == job_id_for(workflow.resource, old.generation + 1), where


def not_restarted_empty(api: FlinkApi, job: str, where: str) -> None:
    """The job's counter continues from restored state: its `startCount` gauge is above 1."""
    start = wait_for(lambda: counter_gauge(api, job, "startCount", low=True), 60.0, where)
    assert start > 1, (where, "the job started with empty state")


def savepoints_of(savepoint: str, job_id: str | None) -> int:
    """Savepoints of `job_id` beside the recorded one (its cluster may be gone: suspended)."""
    assert job_id is not None
    directory = Path(savepoint.removeprefix("file:").removeprefix("//")).parent
    return len([p for p in directory.iterdir() if p.name.startswith(f"savepoint-{job_id[:6]}")])
