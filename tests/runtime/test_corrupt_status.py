"""One corrupt status document holds back only its own resource: the file is named, its Flink
job is left alone, everything else proceeds, and the agent's /readyz says so."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import httpx
from support.fakes import FakeWorld, fake_world
from support.gitrepos import run_git
from support.passes import CLICKS, ORDERS, app

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.agent.loop import Loop
from gitflink.agent.webhook import make_server, serve_in_background
from gitflink.cli.sync import print_result
from gitflink.model.ids import job_id_for
from gitflink.ports import Ports, StatusStore
from gitflink.runtime.reconciler import PassResult, run_pass
from gitflink.settings import Secret

FILES = {"streaming/orders.yaml": app("orders"), "streaming/clicks.yaml": app("clicks")}
CHANGED = {
    "streaming/orders.yaml": app("orders", rate=99),
    "streaming/clicks.yaml": app("clicks", rate=99),
}


def deploy_both(world: FakeWorld, store: StatusStore) -> Ports:
    ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
    assert run_pass(ports).ok
    return ports


def assert_only_clicks_held(world: FakeWorld, result: PassResult, path: str) -> None:
    assert not result.ok
    [corrupt] = result.corrupt
    assert corrupt.path == path and corrupt.resource == CLICKS
    # orders was upgraded as usual
    [orders_job] = world.runtime.api_for(ORDERS).running_jobs()
    assert orders_job.args == ("--rate", "99")
    # clicks: same job, still running, never stopped, no new one
    clicks_api = world.runtime.api_for(CLICKS)
    assert [j.job_id for j in clicks_api.running_jobs()] == [job_id_for(CLICKS, 1)]
    assert len(clicks_api.jobs) == 1
    [held] = [e for e in result.executions if e.resource == CLICKS]
    assert not held.ok and path in (held.error or "")


def test_truncated_status_file_holds_only_its_resource(tmp_path: Path) -> None:
    world = fake_world(FILES)
    store = FileStatusStore(tmp_path)
    ports = deploy_both(world, store)
    broken = store.path_of(CLICKS)
    broken.write_text(broken.read_text()[:40])
    before = broken.read_bytes()
    world.source.commit(CHANGED)
    result = run_pass(ports)
    assert_only_clicks_held(world, result, str(broken))
    assert broken.read_bytes() == before  # evidence kept, not overwritten
    out = _printed(result, ports)
    assert f"status document {broken}" in out and "Traceback" not in out


def test_broken_yaml_on_the_status_branch_holds_only_its_resource(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(remote))
    world = fake_world(FILES)
    store = GitStatusStore(remote.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None)
    ports = deploy_both(world, store)
    store.flush()
    path = "status/streaming/flinkdeployment/clicks.yaml"
    work = tmp_path / "work"
    run_git(tmp_path, "clone", "-q", "-b", "gitflink/status", str(remote), str(work))
    (work / path).write_text("lifecycleState: STABLE\njobStatus: {jobId: [unclosed\n")
    run_git(work, "commit", "-q", "-am", "someone broke it")
    run_git(work, "push", "-q", "origin", "gitflink/status")
    store.refresh()
    world.source.commit(CHANGED)
    result = run_pass(ports)
    assert_only_clicks_held(world, result, path)
    assert "line 3" in result.corrupt[0].reason


def test_readyz_reports_a_corrupt_status_document_while_healthz_stays_ok(
    tmp_path: Path,
) -> None:
    world = fake_world(FILES)
    store = FileStatusStore(tmp_path)
    ports = deploy_both(world, store)
    loop = Loop(lambda: run_pass(ports), interval=3600)
    server = make_server(("127.0.0.1", 0), loop, Secret("s"))
    serve_in_background(server)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=loop.run, daemon=True)
    try:
        assert httpx.get(f"{url}/readyz").status_code == 503  # no pass yet
        thread.start()
        _wait(lambda: loop.passes >= 1)
        assert httpx.get(f"{url}/readyz").status_code == 200
        store.path_of(CLICKS).write_text("{")
        loop.wake("test")
        _wait(lambda: loop.passes >= 2)
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503
        assert str(store.path_of(CLICKS)) in ready.text
        assert httpx.get(f"{url}/healthz").status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
        assert "gitflink_status_documents_unreadable 1.0" in metrics
    finally:
        loop.stop()
        thread.join(5)
        server.shutdown()
        server.server_close()


def _printed(result: PassResult, ports: Ports) -> str:
    out = io.StringIO()
    print_result(result, ports, out)
    return out.getvalue()


def _wait(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    time.sleep(0.05)
