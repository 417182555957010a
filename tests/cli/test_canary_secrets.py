"""Canary secrets through a real agent (local runtime): the repository and the status branch
served over smart HTTP behind the canary Git credentials, canaries in the manifests'
flinkConfiguration and job arguments (a suspended application and an invalid one), the webhook
called with the canary secret. Nothing of them may reach the agent's log (at DEBUG), a status
document or a status commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.agents import AgentProcess, wait_for
from support.canaries import Canaries, canaries
from support.git_http import GitHttpServer
from support.gitrepos import Remote, run_git
from support.sync_flink_support import yaml_bytes

__all__ = ["canaries"]  # a fixture, imported for pytest to find


def application(name: str, **job: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "flinkVersion": "v1_20",
            "jobManager": {"resource": {"memory": "1g"}},
            "taskManager": {"resource": {"memory": "1g"}},
            "job": {"jarURI": "local:///opt/job.jar", "upgradeMode": "stateless", **job},
        },
    }


def documents(remote: Remote) -> list[str]:
    if "gitflink/status" not in run_git(remote.bare, "branch"):
        return []
    return run_git(remote.bare, "ls-tree", "-r", "--name-only", "gitflink/status").split()


@pytest.fixture
def served(canaries: Canaries, tmp_path: Path) -> Iterator[tuple[Remote, str]]:
    remote = Remote(tmp_path)
    server = GitHttpServer(tmp_path, "gitflink-bot", canaries.git_token).start()
    try:
        yield remote, server.url(remote.bare.name)
    finally:
        server.stop()


def test_no_canary_reaches_the_log_status_documents_or_status_commits(
    canaries: Canaries, served: tuple[Remote, str], tmp_path: Path
) -> None:
    remote, url = served
    suspended = canaries.seed(application("quiet", state="suspended", parallelism=1))
    invalid = canaries.seed(application("broken", parallelism="many"))
    remote.commit(
        {
            "apps/quiet.yaml": yaml_bytes(suspended).decode(),
            "apps/broken.yaml": yaml_bytes(invalid).decode(),
        }
    )
    remote.push()
    env = {**canaries.env(), "GITFLINK_LOG_LEVEL": "DEBUG"}
    agent = AgentProcess("agent", tmp_path / "agent", url, env, ("--interval", "30")).start()
    canaries.watch_file(agent.log, "the agent's log")
    canaries.watch_repo(remote.bare)
    try:
        wait_for(lambda: len(documents(remote)) == 2, timeout=60, what="the first pass's status")
        assert documents(remote) == [
            "status/default/flinkdeployment/broken.yaml",
            "status/default/flinkdeployment/quiet.yaml",
        ]
        # The webhook with the canary secret wakes it; a wrong one is refused.
        hook = f"{agent.url}/hooks/git"
        assert httpx.post(hook, headers={"X-Gitlab-Token": "wrong"}).status_code == 401
        assert httpx.post(hook, headers={"X-Gitlab-Token": canaries.webhook}).status_code == 202
        wait_for(
            lambda: agent.metric("gitflink_wakeups_total", 'reason="webhook"'),
            timeout=30,
            what="a pass woken by the webhook",
        )
    finally:
        assert agent.stop() == 0
    log = agent.output()
    assert "FlinkDeployment/default/broken invalid" in log  # the pass really ran and logged
    canaries.check()


def test_the_check_finds_a_canary_wherever_it_is_watched(tmp_path: Path) -> None:
    seeded = Canaries()
    log = tmp_path / "log"
    log.write_text(f"fetching with {seeded.git_token}\n")
    seeded.watch_file(log, "a log")
    seeded.watch_text("a body", lambda: '{"data": {"k": "' + seeded.value("x") + '"}}')
    assert [leak.split(":")[0] for leak in seeded.leaks()] == ["a log", "a body"]
    with pytest.raises(AssertionError, match="canary secrets leaked"):
        seeded.check()
