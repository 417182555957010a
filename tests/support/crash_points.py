"""Crash points: every boundary a pass crosses between two effects on the outside world.

A pass touches the world only through its ports. `CrashPorts` wraps them and numbers the
boundaries as they are crossed: before every call that changes something (`EFFECTS`: a status
save, a Flink REST call that stops, triggers or submits, a cluster started or stopped), after
it once a later call shows that time passed (a read: the pass is waiting for Flink), and inside
the status store's write itself (`during_writes`). A crash at boundary N is a SIGKILL when the
N-th is reached. So the points a plan passes through are enumerated by running it, whatever its
action: a new action or step kind adds its points to the matrix without new test code, and a new
port method must be classified here (`tests/runtime/test_crash_points.py` checks that).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitflink.adapters.status_git import GitStatusStore
from gitflink.ports import Ports

# Per port: the methods that change the world. Every other public method only reads.
EFFECTS: dict[str, frozenset[str]] = {
    "FlinkApi": frozenset(
        {
            "upload_jar",
            "run_jar",
            "delete_jar",
            "trigger_savepoint",
            "stop_with_savepoint",
            "trigger_checkpoint",
            "dispose_savepoint",
            "cancel",
            "set_parallelism",
        }
    ),
    "FlinkRuntime": frozenset({"ensure_cluster", "delete_cluster", "start_application"}),
    "StatusStore": frozenset({"save", "delete"}),
}
READS: dict[str, frozenset[str]] = {
    "FlinkApi": frozenset(
        {
            "overview",
            "list_jobs",
            "job_details",
            "job_exceptions",
            "checkpoints",
            "savepoint_status",
            "checkpoint_status",
            "disposal_status",
            "resource_requirements",
            "vertex_metrics",
        }
    ),
    "FlinkRuntime": frozenset(
        {"find_cluster", "list_clusters", "latest_checkpoint", "resolve_jar"}
    ),
    "StatusStore": frozenset({"load_all", "load"}),
}
# What the Git status store does to its repositories inside one save or flush.
GIT_WRITES = frozenset({"update-ref", "push"})


class CrashPoints:
    """Numbers boundaries as they are crossed; SIGKILLs this process at the chosen one (an int:
    its number; a str: the first whose name contains it; None: never)."""

    def __init__(self, crash_at: int | str | None, *, say: Callable[[str], None] = print) -> None:
        self.crash_at, self.say = crash_at, say
        self.passed = 0
        self._after: str | None = None  # the effect just done, until something else happens
        self._lock = threading.RLock()

    def _cross(self, name: str) -> None:
        self.passed += 1
        self.say(f"crash point {self.passed}: {name}")
        at = self.crash_at
        if at == self.passed or (isinstance(at, str) and at in name):
            self.say(f"SIGKILL at crash point {self.passed}")
            os.kill(os.getpid(), signal.SIGKILL)

    def call(self, name: str, effect: bool, run: Callable[[], Any]) -> Any:
        with self._lock:
            if effect:
                self._after = None  # nothing happened since: "after it" is "before this"
                self._cross(f"before {name}")
            elif self._after is not None:
                self._cross(self._after)
                self._after = None
        result = run()
        if effect:
            with self._lock:
                self._after = f"after {name}"
        return result


class _Wrapped:
    """Forwards every method of `inner`, each call through the crash points."""

    def __init__(self, inner: Any, port: str, points: CrashPoints, label: str = "") -> None:
        self._inner, self._port, self._points = inner, port, points
        self._label = label or port
        known = EFFECTS[port] | READS[port]
        self._effects = EFFECTS[port]
        self._known = known

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        if attr not in self._known or not callable(value):
            return value
        effect = attr in self._effects

        def call(*args: Any, **kwargs: Any) -> Any:
            name = f"{self._label}.{attr}{_brief(args)}"
            return self._points.call(name, effect, lambda: value(*args, **kwargs))

        return call


def _brief(args: tuple[Any, ...]) -> str:
    """The call's first argument, or the status message, in the boundary's name."""
    shown = [a for a in args if isinstance(a, str)][-1:] or [str(a) for a in args[:1]]
    return f"({shown[0]})" if shown else "()"


def crash_ports(ports: Ports, points: CrashPoints) -> Ports:
    """`ports` with its runtime, Flink clients and status store counting crash points."""

    def flink(rest_url: str) -> Any:
        return _Wrapped(ports.flink(rest_url), "FlinkApi", points, "Flink")

    return Ports(
        ports.source,
        _Wrapped(ports.runtime, "FlinkRuntime", points, "runtime"),  # type: ignore[arg-type]
        flink,
        _Wrapped(ports.status, "StatusStore", points, "status"),  # type: ignore[arg-type]
        ports.clock,
        artifacts=ports.artifacts,
        meter=ports.meter,
    )


def during_writes(store: object, points: CrashPoints, status_dir: Path | None = None) -> None:
    """Crash points inside the store's own write: before the file store renames its fsynced
    temporary file over the document; before each ref update and push of the Git store (its
    journal, its write-ahead ref, the branch)."""
    if isinstance(store, GitStatusStore):
        git = store._git

        def wrapped(*args: str, stdin: bytes | str | None = None) -> str:
            # Its journal commit is the save's first durable write: a crash before it is a
            # crash before the save, already a point.
            if args and args[0] in GIT_WRITES and args[1:2] != ("refs/gitflink/journal",):
                name = f"status write: git {' '.join(a for a in args if a != '--porcelain')}"
                return str(points.call(name, True, lambda: git(*args, stdin=stdin)))
            return git(*args, stdin=stdin)

        store._git = wrapped  # type: ignore[method-assign]
    elif status_dir is not None:
        replace = os.replace

        def renaming(src: Any, dst: Any, **kwargs: Any) -> None:
            if Path(dst).is_relative_to(status_dir):
                name = f"status write: rename over {Path(dst).name}"
                points.call(name, True, lambda: replace(src, dst, **kwargs))
                return
            replace(src, dst, **kwargs)

        os.replace = renaming
