"""Real Git repositories for tests: a bare remote in a tmp dir and a clone that pushes to it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **IDENTITY, **(env or {})}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def spec(name: str, parallelism: int = 1) -> str:
    return (
        "apiVersion: flink.apache.org/v1beta1\n"
        "kind: FlinkDeployment\n"
        f"metadata:\n  name: {name}\n"
        "spec:\n  flinkVersion: v1_20\n"
        "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 1g}}\n"
        f"  job:\n    jarURI: local:///opt/job.jar\n    parallelism: {parallelism}\n"
    )


class Remote:
    """`bare` is what agents fetch from; `work` is a developer's clone that pushes to it."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        self.branch = branch
        run_git(root, "init", "-q", "--bare", f"--initial-branch={branch}", str(self.bare))
        run_git(root, "init", "-q", f"--initial-branch={branch}", str(self.work))
        run_git(self.work, "remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for path, text in files.items():
            target = self.work / path
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        run_git(self.work, "add", "-A")
        run_git(self.work, "commit", "-q", "--allow-empty", "-m", message)
        return run_git(self.work, "rev-parse", "HEAD")

    def push(self, *refs: str, force: bool = False) -> None:
        flags = ["--force"] if force else []
        run_git(self.work, "push", "-q", *flags, "origin", *(refs or (self.branch,)))

    def orphan(self, files: dict[str, str], message: str = "rewrite") -> str:
        """Replace history with one unrelated commit (what a force-push of a rewrite does)."""
        run_git(self.work, "checkout", "-q", "--orphan", "rewritten")
        run_git(self.work, "rm", "-rq", "--cached", ".")
        run_git(self.work, "clean", "-fdxq")
        sha = self.commit(files, message)
        run_git(self.work, "branch", "-q", "-M", self.branch)
        return sha
