"""Rollback: a spec Git asks for that gitflink does not run, and what runs instead.

Written when an upgrade did not become stable and was rolled back to the last stable spec, or
when a person ran `gitflink rollback --to REVISION`. The spec Git asked for is remembered by its
digest, so it is not tried again; the next commit that changes the spec is (docs/rollback.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

ROLLBACK_ENABLED = "kubernetes.operator.deployment.rollback.enabled"
READINESS_TIMEOUT = "kubernetes.operator.deployment.readiness.timeout"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_UNITS = {
    "": 0.001,  # Flink reads a bare duration as milliseconds
    "ms": 0.001,
    "milli": 0.001,
    "millis": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}


def duration_seconds(text: str) -> float | None:
    """A Flink duration ("5 min", "300s", "300000") in seconds; None when it does not parse."""
    found = _DURATION.match(text.lower())
    if found is None or found.group(2) not in _UNITS:
        return None
    return float(found.group(1)) * _UNITS[found.group(2)]


def rollback_enabled(value: str | None) -> bool:
    """The value of `kubernetes.operator.deployment.rollback.enabled` as Flink reads it."""
    return value is not None and value.strip().lower() == "true"


class Rollback(BaseModel):
    """Git's spec (by digest) that is not run, why, and the spec that runs instead.

    `git_digest`: `fingerprints.spec_digest` of the spec Git asked for; while Git still asks for
    it, nothing is tried again. `spec`: the spec restored (the last stable one, or the one
    `gitflink rollback` read from Git at `to_revision`), secrets as fingerprints. `restore_point`:
    the savepoint the restore starts from; kept, never cleaned up while this record exists."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    git_digest: str
    git_revision: str | None = None
    reason: str
    at: datetime | None = None
    manual: bool = False  # `gitflink rollback --to`, not a failed upgrade
    to_revision: str | None = None
    spec: dict[str, Any] | None = None
    restore_point: str | None = None
