"""`gitflink sync`'s result says whether each job runs as Git says after the pass: FAIL for a
job Flink gave up on, RECOVERING while its restart backs off, ok only when observed running."""

from __future__ import annotations

import io
import json

from support.fakes import fake_world
from support.passes import ORDERS
from support.passes import app as manifest

from gitflink.cli.sync import print_result, result_document
from gitflink.core.planning import Healing
from gitflink.runtime.reconciler import PassConfig, run_pass


def _table(result, world) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    print_result(result, world.ports, out)
    return out.getvalue()


def test_a_failed_job_is_a_failed_sync_and_a_backing_off_restart_is_recovering() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    assert run_pass(world.ports).ok
    job_id = world.store.load(ORDERS).job_status.job_id  # type: ignore[union-attr]
    world.runtime.api_for(ORDERS).complete_checkpoint(job_id)
    world.runtime.api_for(ORDERS).fail_job(job_id, "java.lang.OutOfMemoryError: heap")
    failed = run_pass(world.ports)
    assert not failed.ok
    row = next(line for line in _table(failed, world).splitlines() if "streaming/orders" in line)
    assert " FAIL " in f" {row} " and "OutOfMemoryError" in row
    document = result_document(failed, world.ports)
    [resource] = document["resources"]
    assert (document["ok"], resource["ok"], resource["result"]) == (False, False, "FAIL")
    config = PassConfig(healing=Healing(restart_failed=True, backoff_first=60.0))
    assert run_pass(world.ports, config).ok  # restarted at once
    world.runtime.api_for(ORDERS).fail_job(
        world.store.load(ORDERS).job_status.job_id,  # type: ignore[union-attr, arg-type]
        "again",
    )
    waiting = run_pass(world.ports, config)
    assert not waiting.ok
    assert json.dumps(result_document(waiting, world.ports)["resources"][0]["result"]) == (
        '"RECOVERING"'
    )
    assert "RECOVERING" in _table(waiting, world)


def test_a_running_job_is_ok() -> None:
    world = fake_world({"streaming/orders.yaml": manifest("orders")})
    result = run_pass(world.ports)
    assert result.ok and result_document(result, world.ports)["resources"][0]["result"] == "ok"
