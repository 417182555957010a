"""`gitflink history RESOURCE`: the lineage (revision, time, kind, path, use) newest first, from
the data dir's status files or a status branch, as real passes on the fakes left it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from support.fakes import FakeWorld, fake_world
from support.gitrepos import run_git
from support.passes import ORDERS, app

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.cli import main, waiting
from gitflink.ports import StatusStore
from gitflink.runtime.reconciler import run_pass

PERIODIC = b"  flinkConfiguration:\n    kubernetes.operator.periodic.savepoint.interval: 1 min\n"


def periodic(parallelism: int = 2) -> bytes:
    return app("orders", parallelism=parallelism).replace(b"  flinkConfiguration:\n", PERIODIC)


def lived(store: StatusStore) -> FakeWorld:
    """orders deployed, a periodic savepoint, then an upgrade through a savepoint."""
    world = fake_world({"streaming/orders.yaml": periodic()})
    ports = dataclasses.replace(world.ports, status=store)
    assert run_pass(ports).ok
    world.clock.sleep(61)
    assert run_pass(ports).ok
    if isinstance(store, GitStatusStore):
        store.flush()
    world.source.commit({"streaming/orders.yaml": periodic(parallelism=3)})
    assert run_pass(ports).ok
    if isinstance(store, GitStatusStore):
        store.flush()  # the agent pushes each pass's statuses as one commit
    return world


def history(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["history", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_history_lists_what_was_taken_and_restored_newest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lived(FileStatusStore(tmp_path))
    code, out, _ = history(capsys, "orders", "--data-dir", str(tmp_path))
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["REVISION", "TIME", "KIND", "PATH", "USE"]
    uses = [line.split()[-1] for line in lines]
    assert uses == ["restored", "upgrade", "periodic"]
    code, out, _ = history(capsys, "streaming/orders", "--data-dir", str(tmp_path), "-o", "json")
    [(name, entries)] = json.loads(out).items()
    assert name == str(ORDERS)
    assert entries[0]["use"] == "restored" and entries[1]["use"] == "upgrade"
    assert entries[0]["path"] == entries[1]["path"]  # restored from what the upgrade took
    assert entries[2]["revision"] == "a" * 40  # the periodic one ran the first revision's spec
    assert entries[1]["revision"] == "a" * 40  # so did the job the upgrade stopped
    assert entries[0]["revision"] != "a" * 40  # the new job runs the next revision


def test_history_reads_a_status_branch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    store = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "c1", sleep=lambda _: None)
    lived(store)
    argv = ["orders", "--repo", bare.as_uri(), "--cache-dir", str(tmp_path / "c2"), "-o", "json"]
    code, out, _ = history(capsys, *argv)
    assert code == 0
    [entries] = json.loads(out).values()
    assert [e["use"] for e in entries] == ["restored", "upgrade", "periodic"]


def test_an_unknown_resource_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lived(FileStatusStore(tmp_path))
    code, out, err = history(capsys, "nothing", "--data-dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert 'resource "nothing" not found' in err


def test_savepoint_of_a_resource_without_a_job_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lived(FileStatusStore(tmp_path))
    code = main(["savepoint", "nothing", "--data-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert 'no job of "nothing" recorded' in captured.err


def test_savepoint_with_a_status_branch_asks_the_agent_which_takes_it_on_its_next_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agent runs Flink: the command records the request as one commit and triggers
    nothing; the agent's next pass takes the savepoint and clears the request."""
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    agent = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "c1", sleep=lambda _: None)
    world = lived(agent)
    [running] = [j for j in world.runtime.api_for(ORDERS).jobs.values() if j.state == "RUNNING"]
    triggered = len(running.savepoints)
    argv = ["orders", "--repo", bare.as_uri(), "--cache-dir", str(tmp_path / "c2"), "-o", "json"]
    assert main(["savepoint", *argv]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert asked["resource"] == str(ORDERS) and asked["requested"].startswith("one-off@")
    subject = run_git(bare, "log", "-1", "--format=%s", "gitflink/status")
    assert subject == "gitflink: streaming/orders one-off savepoint requested"
    assert len(running.savepoints) == triggered  # nothing triggered by the command
    assert agent.refresh()  # the agent's next pass sees the request
    ports = dataclasses.replace(world.ports, status=agent)
    result = run_pass(ports)
    agent.flush()
    assert result.ok and result.plan is not None
    job = result.plan.for_resource(ORDERS)
    assert job is not None and job.action.value == "savepoint"
    assert len(running.savepoints) == triggered + 1
    status = agent.load(ORDERS)
    assert status is not None and status.job_status.savepoint_request is None
    code, out, _ = history(capsys, *argv)
    [entries] = json.loads(out).values()
    assert code == 0 and entries[0]["use"] == "one-off"
    again = run_pass(ports).plan
    assert again is not None
    planned = again.for_resource(ORDERS)
    assert planned is None or planned.action.value != "savepoint"  # taken once


def test_savepoint_wait_prints_the_path_the_agents_pass_took(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    agent = GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "c1", sleep=lambda _: None)
    world = lived(agent)
    ports = dataclasses.replace(world.ports, status=agent)
    passes: list[bool] = []

    def agent_pass(_: float) -> None:  # while the command waits, the agent passes once
        agent.refresh()
        passes.append(run_pass(ports).ok)
        agent.flush()

    monkeypatch.setattr(waiting, "pause", agent_pass)
    argv = ["orders", "--repo", bare.as_uri(), "--cache-dir", str(tmp_path / "c2")]
    assert main(["savepoint", *argv, "--wait", "600"]) == 0
    path = capsys.readouterr().out.strip()
    assert passes == [True]
    status = agent.load(ORDERS)
    assert status is not None and status.job_status.last_savepoint is not None
    assert path == status.job_status.last_savepoint.path
