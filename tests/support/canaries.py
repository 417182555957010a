"""Canary secrets: unique values seeded where secrets live (a manifest's secret-looking
flinkConfiguration keys and secret job arguments, the Git credentials, the webhook secret), and
a check that none of them reaches a place secrets must never be: a log record, a request body
sent to the API server (the test bed's audit log: gitflink users' writes at RequestResponse
level), a status document, a commit of the status branch.

Use the `canaries` fixture: seed, run a real agent pass, `watch_*` what it wrote, then
`check()` (the fixture checks again when the test ends, so a watched place is never missed).
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# flinkConfiguration keys that gitflink (model/secrets.py) and Flink treat as secret.
SECRET_KEYS = (
    "s3.secret-key",
    "fs.s3a.access.key",
    "security.ssl.rest.keystore-password",
    "metrics.reporter.dghttp.apikey",
    "kafka.sasl.jaas.config",
)
Texts = Callable[[], Iterable[tuple[str, str]]]  # (where, text) pairs to search


@dataclass
class Canaries:
    tag: str = field(default_factory=lambda: f"canary{secrets.token_hex(6)}")
    places: list[Texts] = field(default_factory=list)

    def value(self, where: str) -> str:
        return f"{self.tag}-{where}"

    @property
    def git_token(self) -> str:
        return self.value("git-token")

    @property
    def git_password(self) -> str:
        return self.value("git-password")

    @property
    def webhook(self) -> str:
        return self.value("webhook")

    def env(self) -> dict[str, str]:
        """The agent's secrets: Git token and password, the webhook secret."""
        return {
            "GITFLINK_GIT_USERNAME": "gitflink-bot",
            "GITFLINK_GIT_TOKEN": self.git_token,
            "GITFLINK_GIT_PASSWORD": self.git_password,
            "GITFLINK_WEBHOOK_SECRET": self.webhook,
        }

    def seed(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """`manifest` with a canary in each secret-looking flinkConfiguration key and, when it
        has a job, in a secret argument (`--db-password <canary>`)."""
        spec = manifest["spec"]
        conf = spec.setdefault("flinkConfiguration", {})
        for key in SECRET_KEYS:
            conf[key] = self.value(key)
        if "job" in spec:
            spec["job"]["args"] = [*spec["job"].get("args", []), "--db-password", self.value("arg")]
        return manifest

    # -- where to look ------------------------------------------------------------------

    def watch(self, texts: Texts) -> None:
        self.places.append(texts)

    def watch_file(self, path: Path, where: str | None = None) -> None:
        self.watch(lambda: [(where or str(path), path.read_text(errors="replace"))])

    def watch_text(self, where: str, text: Callable[[], str]) -> None:
        self.watch(lambda: [(where, text())])

    def watch_repo(self, bare: Path, refs: str = "refs/") -> None:
        """Every commit (message and patch) and every file at the tip of each ref under
        `refs` whose name mentions gitflink (the status branch and its write-ahead refs)."""

        def texts() -> Iterator[tuple[str, str]]:
            listed = _git(bare, "for-each-ref", "--format=%(refname)", refs).splitlines()
            for ref in (r for r in listed if "gitflink" in r):
                yield f"{ref} (commits)", _git(bare, "log", "-p", "--format=%H%n%B", ref)
                yield f"{ref} (files)", _git(bare, "grep", "-I", "-h", "-e", "", ref)

        self.watch(texts)

    def watch_audit(self, events: Callable[[], list[dict[str, Any]]], users: set[str]) -> None:
        """The API server's audit events of `users`: request and response bodies included."""

        def texts() -> Iterator[tuple[str, str]]:
            for event in events():
                if event["user"]["username"] in users:
                    where = f"audit: {event['user']['username']} {event['verb']} "
                    yield where + event["requestURI"], json.dumps(event)

        self.watch(texts)

    # -- the check ----------------------------------------------------------------------

    def leaks(self) -> list[str]:
        """Where a canary was found, as `place: ...context...`."""
        needles = {self.tag, base64.b64encode(self.tag.encode()).decode()[:12]}
        found = []
        for place in self.places:
            for where, text in place():
                for needle in needles:
                    at = text.find(needle)
                    if at >= 0:
                        found.append(f"{where}: ...{text[max(0, at - 80) : at + 60]}...")
        return found

    def check(self) -> None:
        leaked = self.leaks()
        assert not leaked, "canary secrets leaked:\n" + "\n".join(leaked)


def _git(bare: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=bare, capture_output=True, text=True, check=False)
    return done.stdout


@pytest.fixture
def canaries() -> Iterator[Canaries]:
    seeded = Canaries()
    yield seeded
    seeded.check()
