"""What one pass returns: the revision, the plan, one Execution per resource, the problems."""

from __future__ import annotations

from dataclasses import dataclass

from gitflink.model.errors import SourceError
from gitflink.model.plan import Plan
from gitflink.model.problems import Problem
from gitflink.model.status_load import CorruptStatus
from gitflink.ports import Revision
from gitflink.runtime.executor import Execution


@dataclass(frozen=True)
class PassResult:
    revision: Revision | None
    plan: Plan | None = None
    executions: tuple[Execution, ...] = ()
    problems: tuple[Problem, ...] = ()
    error: str | None = None  # the pass could not start (Git unreadable)
    source_error: SourceError | None = None  # the same, as the exception
    observed: bool = True  # False: Git unchanged and converged, stopped after fetching
    corrupt: tuple[CorruptStatus, ...] = ()  # status documents the store could not read

    @property
    def ok(self) -> bool:
        errors = any(p.is_error for p in self.problems) or bool(self.corrupt)
        return self.error is None and not errors and all(e.ok for e in self.executions)
