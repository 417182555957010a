"""The webhook wakes the loop only for verified requests; the payload never picks a revision."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.gitrepos import Remote, spec

from gitflink.adapters.git_source import GitSource
from gitflink.agent.loop import Loop
from gitflink.agent.webhook import make_server, serve_in_background
from gitflink.settings import Secret

SECRET = "hook-secret-42"


class Agent:
    def __init__(self, run_pass: object = None) -> None:
        self.revisions: list[str] = []
        self.count = 0
        self.loop = Loop(run_pass or self._count, interval=3600)  # type: ignore[arg-type]
        self.server = make_server(("127.0.0.1", 0), self.loop, Secret(SECRET))
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        serve_in_background(self.server)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)

    def _count(self) -> None:
        self.count += 1

    def start(self) -> Agent:
        self.thread.start()
        deadline = time.monotonic() + 5
        while self.loop.passes < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def close(self) -> None:
        self.loop.stop()
        self.thread.join(5)
        self.server.shutdown()
        self.server.server_close()

    def settle(self, passes: int, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while self.loop.passes < passes and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)


@pytest.fixture
def agent() -> Iterator[Agent]:
    a = Agent().start()
    yield a
    a.close()


def github(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": "push"}


BODY = json.dumps({"ref": "refs/heads/main", "after": "f" * 40}).encode()


@pytest.mark.parametrize(
    "headers",
    [
        github(BODY),
        {"X-Gitlab-Token": SECRET},
        {"Authorization": f"Bearer {SECRET}"},
        {"X-Gitflink-Token": SECRET},
    ],
    ids=["github", "gitlab", "bearer", "generic"],
)
def test_verified_request_wakes_the_loop(agent: Agent, headers: dict[str, str]) -> None:
    response = httpx.post(f"{agent.url}/hooks/git", content=BODY, headers=headers)
    assert response.status_code == 202
    agent.settle(2)
    assert agent.loop.passes == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        github(BODY, secret="wrong"),
        github(b"another body"),
        {"X-Gitlab-Token": "wrong"},
        {"Authorization": "Bearer wrong"},
    ],
    ids=["missing", "wrong-key", "other-body", "gitlab-wrong", "bearer-wrong"],
)
def test_wrong_or_missing_signature_is_401_and_nothing_happens(
    agent: Agent, headers: dict[str, str]
) -> None:
    response = httpx.post(f"{agent.url}/hooks/git", content=BODY, headers=headers)
    assert response.status_code == 401
    agent.settle(2, timeout=0.3)
    assert agent.loop.passes == 1


def test_without_a_configured_secret_every_request_is_refused() -> None:
    loop = Loop(lambda: None, interval=3600)
    server = make_server(("127.0.0.1", 0), loop, None)
    serve_in_background(server)
    try:
        url = f"http://127.0.0.1:{server.server_port}/hooks/git"
        assert httpx.post(url, content=b"{}", headers={"X-Gitlab-Token": ""}).status_code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_health_and_metrics(agent: Agent) -> None:
    assert httpx.get(f"{agent.url}/healthz").status_code == 200
    httpx.post(f"{agent.url}/hooks/git", content=BODY)
    metrics = httpx.get(f"{agent.url}/metrics").text
    assert 'gitflink_passes_total{result="ok"}' in metrics
    assert 'gitflink_webhook_requests_total{outcome="unauthorized"} 1.0' in metrics


def test_payload_cannot_choose_the_revision(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    real = remote.commit({"apps/a.yaml": spec("a")})
    remote.push()
    source = GitSource(remote.url, cache_dir=tmp_path / "cache")
    seen: list[str] = []
    a = Agent(run_pass=lambda: seen.append(source.fetch().sha)).start()
    try:
        forged = json.dumps({"after": "e" * 40, "checkout_sha": "e" * 40}).encode()
        assert (
            httpx.post(f"{a.url}/hooks/git", content=forged, headers=github(forged)).status_code
            == 202
        )
        a.settle(2)
    finally:
        a.close()
    assert seen == [real, real]
