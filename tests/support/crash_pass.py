"""Test helper, run as a script: one reconciliation pass (as `gitflink sync` or one agent pass
runs it) that kills itself with SIGKILL at a crash point (tests/support/crash_points.py).

usage: python tests/support/crash_pass.py STATUS RUNTIME_DIR REPO CRASH_AT

STATUS: a status directory, or `git:<url>#<cache dir>` for the Git status store (flushed at the
end of the pass, as the agent does). CRASH_AT: a number (the N-th crash point), or text (the
first point whose name contains it, e.g. part of a status message); `none` never crashes and
just lists the points. Prints one line per point; exits 3 when the pass ends without a crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassConfig, run_pass
from gitflink.settings import Settings
from gitflink.wiring import RestClients, healing

NO_CRASH = 3


def pass_config() -> PassConfig:
    """One worker, and the recovery policy and stability window of the environment, as
    `gitflink sync` reads them (GITFLINK_STABILITY_WINDOW, GITFLINK_READINESS_TIMEOUT, ...)."""
    settings = Settings.from_env()
    return PassConfig(
        max_workers=1,
        healing=healing(settings),
        stable_after=settings.stability_window_seconds,
    )


def status_store(spec: str) -> GitStatusStore | FileStatusStore:
    """`git:<url>#<cache>`, or a status directory: as the test process opens it too."""
    if spec.startswith("git:"):
        url, _, cache = spec.removeprefix("git:").partition("#")
        return GitStatusStore(url, cache_dir=Path(cache))
    return FileStatusStore(Path(spec))


def main(status: str, runtime_dir: str, repo: str, crash_at: str) -> int:
    sys.path.insert(0, str(Path(__file__).parents[1]))  # a script: make `support` importable
    from support.crash_points import CrashPoints, crash_ports, during_writes

    at: int | str | None = None if crash_at == "none" else crash_at
    if crash_at.isdigit():
        at = int(crash_at)
    points = CrashPoints(at, say=lambda line: print(line, flush=True))
    store = status_store(status)
    during_writes(store, points, None if status.startswith("git:") else Path(status))
    runtime = LocalRuntime(Path(runtime_dir), Settings.from_env().cache_dir, ready_timeout=120.0)
    plain = Ports(LocalRepository(repo), runtime, RestClients(), store, SystemClock())
    ports = crash_ports(plain, points)
    result = run_pass(ports, pass_config())
    if isinstance(store, GitStatusStore):
        store.flush()  # the end of an agent pass: its writes are crash points too
    print(f"no crash: the pass ended (ok={result.ok}) after {points.passed} points", flush=True)
    return NO_CRASH


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
