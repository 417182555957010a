"""Flink configuration keys: nested YAML maps and flat dotted keys are the same settings."""

from __future__ import annotations

from typing import Any


class ConflictingKeyError(ValueError):
    """The same flattened key was written twice with different values."""


def flatten_configuration(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested maps into dotted keys, keeping scalar and list values as written.

    `{"state": {"backend": {"type": "rocksdb"}}}` and `{"state.backend.type": "rocksdb"}` both
    become `{"state.backend.type": "rocksdb"}`. An empty nested map contributes no key.
    """
    flat: dict[str, Any] = {}
    for raw_key, value in config.items():
        key = f"{prefix}{raw_key}"
        items = (
            flatten_configuration(value, f"{key}.").items()
            if isinstance(value, dict)
            else [(key, value)]
        )
        for flat_key, flat_value in items:
            if flat_key in flat and flat[flat_key] != flat_value:
                raise ConflictingKeyError(
                    f"'{flat_key}' is set twice with different values "
                    f"({flat[flat_key]!r} and {flat_value!r})"
                )
            flat[flat_key] = flat_value
    return flat


def flink_text(value: Any) -> Any:
    """A scalar as Flink reads it from YAML: `2` is "2", `true` is "true"; others as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
