"""Real Flink (1.20 and 2.3, the shared clusters) meets the REST contract the fake of the
runtime tests is held to (tests/runtime/test_fake_flink_contract.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.flink_contract import CHECKS, Target
from support.flink_fixtures import SharedCluster


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_real_flink_meets_the_flink_contract(
    cluster: SharedCluster, check: Callable[[Target], None]
) -> None:
    check(Target(cluster.api, cluster.jar_id, cluster.handle.savepoint_dir))
