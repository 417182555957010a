"""Problems found in manifests: values, never exceptions, each pinned to a file position."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gitflink.model.ids import ResourceId


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. `line` and `column` are 1-based; 0 means "whole file"."""

    file: str
    line: int
    column: int
    field: str
    message: str
    severity: Severity = Severity.ERROR
    resource: ResourceId | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {prefix}{field}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR
