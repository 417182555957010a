"""HA metadata as the operator treats it: kept when a cluster stops for an upgrade or a suspend
(a last-state start reads it), removed when the deployment is deleted from Git for good."""

from __future__ import annotations

from support.fakes import fake_world
from support.passes import ORDERS, app
from support.passes import pass_ok as _pass

from gitflink.core.planning.removal import PruneGuard
from gitflink.runtime.reconciler import PassConfig, run_pass


def test_ha_metadata_is_kept_on_upgrade_and_suspend_and_removed_on_delete() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders", mode="last-state")})
    _pass(world)
    world.source.commit({"streaming/orders.yaml": app("orders", mode="last-state", rate=20)})
    _pass(world)
    suspended = app("orders", mode="last-state", rate=20).replace(
        b"upgradeMode: last-state", b"upgradeMode: last-state\n    state: suspended"
    )
    world.source.commit({"streaming/orders.yaml": suspended})
    _pass(world)
    assert ORDERS not in world.runtime.clusters
    assert world.runtime.ha_removed == []
    world.source.commit({"streaming/orders.yaml": app("orders", mode="last-state")})
    _pass(world)
    world.source.commit({})
    # Deleting the only resource is a mass prune: allowed here.
    done = run_pass(world.ports, PassConfig(prune_guard=PruneGuard(allowed=True)))
    assert [e.ok for e in done.executions] == [True]
    assert world.runtime.ha_removed == [ORDERS]
