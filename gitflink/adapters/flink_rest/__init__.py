"""Flink's REST API for one cluster (the FlinkApi port), version aware for Flink 1.18 to 2.x."""

from gitflink.adapters.flink_rest.client import (
    DEFAULT_TIMEOUT,
    RUN_TIMEOUT,
    UPLOAD_TIMEOUT,
    FlinkRest,
)
from gitflink.adapters.flink_rest.parsing import flink_message

__all__ = ["DEFAULT_TIMEOUT", "RUN_TIMEOUT", "UPLOAD_TIMEOUT", "FlinkRest", "flink_message"]
