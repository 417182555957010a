"""`gitflink plan` on a 1,000-resource repository with one change: must finish under 2 s.

Measures the whole command as CI runs it (resolve both revisions, read both trees from Git,
parse, validate, plan, render markdown), in this process, best of three runs.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
import time
from pathlib import Path

from gitflink.cli import main as gitflink

RESOURCES = 1_000
BUDGET_SECONDS = 2.0


def manifest(i: int, parallelism: int = 2) -> str:
    return (
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
        f"metadata:\n  name: app-{i:04d}\n  namespace: team-{i % 10}\n"
        "spec:\n  image: flink:1.20\n  flinkVersion: v1_20\n"
        "  flinkConfiguration:\n    taskmanager.numberOfTaskSlots: '2'\n"
        "    state.checkpoints.dir: file:///flink/checkpoints\n"
        "    state.savepoints.dir: file:///flink/savepoints\n"
        "  jobManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        "  taskManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        "  job:\n    jarURI: local:///opt/job.jar\n"
        f"    parallelism: {parallelism}\n    upgradeMode: savepoint\n"
    )


def _git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


def build(root: Path) -> tuple[str, str]:
    _git(root, "init", "-q")
    for i in range(RESOURCES):
        folder = root / f"team-{i % 10}"
        folder.mkdir(exist_ok=True)
        (folder / f"app-{i:04d}.yaml").write_text(manifest(i))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    base = _git(root, "rev-parse", "HEAD")
    (root / "team-7" / "app-0007.yaml").write_text(manifest(7, parallelism=4))
    _git(root, "commit", "-qam", "rescale app-0007")
    return base, _git(root, "rev-parse", "HEAD")


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="gitflink-bench-plan-") as tmp:
        root = Path(tmp)
        base, head = build(root)
        timings = []
        for _ in range(3):
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = gitflink(
                    ["plan", "--repo", tmp, "--base", base, "--head", head, "-o", "markdown"]
                )
            timings.append(time.perf_counter() - started)
            if code != 0 or "team-7/app-0007" not in out.getvalue():
                print(out.getvalue())
                print(f"plan failed (exit {code})")
                return False
    best = min(timings)
    print(
        f"gitflink plan, {RESOURCES} resources, 1 changed: {best:.2f} s "
        f"(best of 3; runs {', '.join(f'{t:.2f}' for t in timings)}; budget {BUDGET_SECONDS} s)"
    )
    return best < BUDGET_SECONDS
