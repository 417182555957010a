"""A manifest error clears once the manifest is valid again (a fix or a revert), even when the
spec did not change: on the fakes' store and on the real status branch."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import FakeWorld, fake_world
from support.gitrepos import run_git
from support.passes import ORDERS, app

from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.status import ConditionStatus
from gitflink.ports import Ports, StatusStore
from gitflink.runtime.reconciler import run_pass

BROKEN = app("orders").replace(b"upgradeMode: savepoint", b"upgradeMode: savepiont")


def _store(kind: str, world: FakeWorld, tmp_path: Path) -> StatusStore:
    if kind == "fake":
        return world.store
    bare = tmp_path / "status.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    return GitStatusStore(bare.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None)


@pytest.mark.parametrize("kind", ["fake", "git"])
def test_a_reverted_manifest_error_clears_from_status(kind: str, tmp_path: Path) -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    store = _store(kind, world, tmp_path)
    ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
    assert run_pass(ports).ok
    bad = world.source.commit({"streaming/orders.yaml": BROKEN})
    assert not run_pass(ports).ok
    status = store.load(ORDERS)
    assert status is not None and status.error and "savepiont" in status.error
    assert status.observed_revision == bad.sha
    good = world.source.commit({"streaming/orders.yaml": app("orders")})  # the revert
    assert run_pass(ports).ok
    status = store.load(ORDERS)
    assert status is not None and status.error is None
    assert status.observed_revision == good.sha
    [ready] = [c for c in status.conditions if c.type == "Ready"]
    assert ready.status is ConditionStatus.TRUE and ready.reason != "invalid"
    assert len(world.runtime.api_for(ORDERS).running_jobs()) == 1  # the job was never touched
