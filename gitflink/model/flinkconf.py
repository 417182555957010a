"""Flink configuration: nested YAML maps and flat dotted keys are the same settings, and the
configuration file text both runtimes write."""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def config_file_name(legacy: bool) -> str:
    """Flink 1.19+ reads standard YAML from config.yaml; earlier releases flink-conf.yaml."""
    return "flink-conf.yaml" if legacy else "config.yaml"


def config_file_text(config: Mapping[str, Any], legacy: bool) -> str:
    """A flat configuration as the text of Flink's configuration file, keys sorted."""
    lines = [f"{key}: {_file_value(value, legacy)}" for key, value in sorted(config.items())]
    return "\n".join(lines) + "\n"


def _file_value(value: Any, legacy: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        return ";".join(items) if legacy else json.dumps(items)
    # The legacy parser keeps quotes as part of the value; standard YAML needs them.
    return str(value) if legacy else json.dumps(str(value))
