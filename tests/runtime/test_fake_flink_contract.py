"""The fake Flink of the runtime tests meets the REST contract real Flink meets
(tests/flink/test_flink_api_contract.py runs the same checks against real clusters)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.fake_flink import FakeFlinkApi
from support.fakes import Journal
from support.flink_contract import CHECKS, Target


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_the_fake_meets_the_flink_contract(check: Callable[[Target], None]) -> None:
    api = FakeFlinkApi("contract", Journal())
    check(Target(api, api.upload_jar(Path("gitflink-testjob.jar")), None))
