"""How a change to a spec field affects a running job, declared on the fields themselves.

Mirrors the Flink Kubernetes Operator's `@SpecDiff` annotations: the diff of two specs is the
maximum kind over the fields that changed, and an undeclared field counts as UPGRADE.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class DiffKind(IntEnum):
    """Ordered: a larger kind needs a more disruptive action."""

    IGNORE = 0
    SCALE = 1
    UPGRADE = 2
    SAVEPOINT_REDEPLOY = 3


class PerKey:
    """Marker for free-form maps (flinkConfiguration) whose keys are classified one by one."""

    def __repr__(self) -> str:
        return "PerKey()"


PER_KEY = PerKey()


@dataclass(frozen=True, slots=True)
class ByMode:
    """A kind that depends on the deployment mode, as upstream's `@SpecDiff.Entry(mode=...)`:
    `standalone` applies in standalone mode, `native` otherwise (mode unset is native)."""

    native: DiffKind
    standalone: DiffKind

    def of(self, standalone: bool) -> DiffKind:
        return self.standalone if standalone else self.native
