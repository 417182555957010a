"""One cluster has one status store (real Flink 1.20): `gitflink sync`'s status files and an
agent's status branch on the same data dir never both manage a cluster; the second one is told
why and changes nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from support.fakes import FakeGitSource
from support.flink_fixtures import stop_everything
from support.gitrepos import run_git
from support.sync_flink_support import app_manifest, yaml_bytes

from gitflink import wiring
from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.plan import Action
from gitflink.runtime.reconciler import run_pass
from gitflink.settings import Settings

pytestmark = [pytest.mark.flink]
ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "it", "owned")


def test_an_agent_on_syncs_data_dir_is_told_the_cluster_is_not_its_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = dataclasses.replace(Settings.from_env(), data_dir=data)
    source = FakeGitSource({"owned.yaml": yaml_bytes(app_manifest("v1_20", "owned"))})
    try:
        synced = wiring.local_ports(settings, source)  # `gitflink sync`: the status files
        assert run_pass(synced).ok
        [running] = [j.job_id for j in synced.flink(_url(synced)).list_jobs()]
        remote = tmp_path / "remote.git"
        run_git(tmp_path, "init", "-q", "--bare", str(remote))
        branch = GitStatusStore(remote.as_uri(), cache_dir=tmp_path / "cache")
        agent = wiring.local_ports(settings, source, status=branch)  # `gitflink agent`
        result = run_pass(agent)
        assert not result.ok
        plan = result.plan.for_resource(ORDERS) if result.plan else None
        assert plan is not None and plan.action is Action.BLOCKED
        assert "managed by another status store" in (plan.blocked or "")
        assert f"status files in {data}" in (plan.blocked or "")
        jobs = synced.flink(_url(synced)).list_jobs()
        assert [(j.job_id, j.state) for j in jobs] == [(running, "RUNNING")]
        assert run_pass(synced).ok  # the files still manage it
    finally:
        stop_everything(data)


def _url(ports: object) -> str:
    handle = ports.runtime.find_cluster(ORDERS)  # type: ignore[attr-defined]
    assert handle is not None
    return str(handle.rest_url)
