"""HA metadata as the operator treats it: kept when a cluster stops for an upgrade or a suspend
(a last-state start reads it), removed when the deployment is deleted from Git for good; a
deployment that never ran with HA has none to look for."""

from __future__ import annotations

from support.fakes import FakeWorld, fake_world
from support.passes import ORDERS, app
from support.passes import pass_ok as _pass

from gitflink.core.planning.removal import PruneGuard
from gitflink.runtime.reconciler import PassConfig, run_pass


def with_ha(manifest: bytes) -> bytes:
    return manifest.replace(
        b"  flinkConfiguration:\n",
        b"  flinkConfiguration:\n    high-availability.type: kubernetes\n"
        b"    high-availability.storageDir: file:///flink-data/ha\n",
    )


def deleted_from_git(world: FakeWorld) -> None:
    world.source.commit({})
    # Deleting the only resource is a mass prune: allowed here.
    done = run_pass(world.ports, PassConfig(prune_guard=PruneGuard(allowed=True)))
    assert [e.ok for e in done.executions] == [True]


def test_ha_metadata_is_kept_on_upgrade_and_suspend_and_removed_on_delete() -> None:
    world = fake_world({"streaming/orders.yaml": with_ha(app("orders", mode="last-state"))})
    _pass(world)
    world.source.commit(
        {"streaming/orders.yaml": with_ha(app("orders", mode="last-state", rate=20))}
    )
    _pass(world)
    suspended = with_ha(app("orders", mode="last-state", rate=20)).replace(
        b"upgradeMode: last-state", b"upgradeMode: last-state\n    state: suspended"
    )
    world.source.commit({"streaming/orders.yaml": suspended})
    _pass(world)
    assert ORDERS not in world.runtime.clusters
    assert world.runtime.ha_removed == []
    world.source.commit({"streaming/orders.yaml": with_ha(app("orders", mode="last-state"))})
    _pass(world)
    deleted_from_git(world)
    assert world.runtime.ha_removed == [ORDERS]


def test_a_deployment_without_ha_is_deleted_without_looking_for_ha_metadata() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders", mode="last-state")})
    _pass(world)
    deleted_from_git(world)
    assert ORDERS not in world.runtime.clusters
    assert world.runtime.ha_removed == []
