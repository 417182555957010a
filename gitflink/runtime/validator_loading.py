"""Find custom validators: entry points in the `gitflink.validators` group of installed packages."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from gitflink.core.validators import ENTRY_POINT_GROUP, Validator


@dataclass(frozen=True, slots=True)
class LoadedValidators:
    validators: tuple[Validator, ...]
    errors: tuple[str, ...]  # one line per entry point that could not be loaded


def load_validators(group: str = ENTRY_POINT_GROUP) -> LoadedValidators:
    """Every callable registered under `group`; a broken plugin is reported, never skipped."""
    validators: list[Validator] = []
    errors: list[str] = []
    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        try:
            loaded = entry_point.load()
        except Exception as exc:
            errors.append(f"{entry_point.name} ({entry_point.value}): {type(exc).__name__}: {exc}")
            continue
        if not callable(loaded):
            errors.append(f"{entry_point.name} ({entry_point.value}): not callable")
            continue
        validators.append(loaded)
    return LoadedValidators(tuple(validators), tuple(errors))
