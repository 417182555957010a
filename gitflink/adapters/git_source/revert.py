"""Revert branches (docs/rollback.md): after a rollback, a branch `gitflink/revert-<name>-<sha>`
puts the resource's manifest file back as it was at the last stable revision, on top of the
branch gitflink follows, so a person can open the pull request. Never forced; an existing
branch of that name is left alone. The work happens in a throw-away clone."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from gitflink.adapters.git_source.access import GitCredentials, git_env, redact, split_url
from gitflink.model.errors import SourceError
from gitflink.ports import RevertRequest


class RevertBranches:
    def __init__(
        self,
        url: str,
        *,
        credentials: GitCredentials | None = None,
        author: tuple[str, str] = ("gitflink", "gitflink@localhost"),
        timeout: float = 120.0,
    ) -> None:
        self.url, found = split_url(url)
        self.credentials = (credentials or GitCredentials()).merged(found)
        name, email = author
        self._env = {
            **git_env(self.url, self.credentials),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        self.timeout = timeout

    def _git(self, cwd: Path, *args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env={**os.environ, **self._env},
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(f"git {args[0]} {redact(self.url)} timed out") from None
        if done.returncode != 0:
            stderr = redact(done.stderr.strip(), self.credentials)
            raise SourceError(f"git {args[0]} {redact(self.url)}: {stderr}")
        return done.stdout.strip()

    def publish(self, request: RevertRequest) -> bool:
        with tempfile.TemporaryDirectory(prefix="gitflink-revert-") as tmp:
            work = Path(tmp)
            self._git(work, "init", "-q")
            if self._git(work, "ls-remote", self.url, f"refs/heads/{request.branch}"):
                return False  # pushed before (an earlier pass, another agent)
            # Both revisions are in the followed branch's history: fetch the branches.
            self._git(work, "fetch", "-q", "--no-tags", self.url, "+refs/heads/*:refs/remotes/o/*")
            self._git(work, "checkout", "-q", "-b", request.branch, request.tip)
            self._git(work, "checkout", request.stable, "--", request.file)
            if not self._git(work, "status", "--porcelain"):
                return False  # the tip already has the stable content: nothing to revert
            message = (
                f"Revert {request.resource.short} to {request.stable[:7]}\n\n"
                f"gitflink rolled {request.resource.short} back: {request.reason}\n"
                f"The spec of {request.rejected[:7]} is not tried again until Git changes it; "
                "merging this branch makes Git say what runs."
            )
            self._git(work, "commit", "-q", "-m", message)
            self._git(work, "push", "-q", self.url, f"HEAD:refs/heads/{request.branch}")
            return True
