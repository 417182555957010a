"""Pydantic validation errors as plain messages in upstream field names, with "did you mean".

`spec.job.upgradeMode: 'savepiont' is not one of stateless, savepoint, last-state` and
`spec.job.paralelism: unknown field; did you mean 'parallelism'?` are written here.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from gitflink.core.yaml_loading import Position, position_of
from gitflink.model.ids import ResourceId
from gitflink.model.problems import Problem

_QUOTED = re.compile(r"'([^']*)'")
_YAML_TYPE = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def dotted(loc: Sequence[int | str]) -> str:
    """`('spec', 'job', 'args', 0)` -> `spec.job.args[0]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def problems_from_errors(
    errors: Sequence[ErrorDetails],
    model: type[BaseModel],
    *,
    file: str,
    positions: Mapping[str, Position],
    default: Position,
    resource: ResourceId | None,
    skip: frozenset[str] = frozenset(),
) -> list[Problem]:
    """One Problem per error, positioned at the offending key; paths in `skip` are left out."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        loc = _clean(error["loc"])
        path = dotted(loc)
        if path in skip:
            continue
        message = describe(error, model, loc)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line, column = position_of(positions, path, default)
        problems.append(Problem(file, line, column, path, message, resource=resource))
    return problems


def describe(error: ErrorDetails, model: type[BaseModel], loc: Sequence[int | str]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        return unknown_field(str(loc[-1]) if loc else "", field_names(model, loc[:-1]))
    if kind == "missing":
        return "required field is missing"
    if kind in ("enum", "literal_error"):
        allowed = _QUOTED.findall(str(ctx.get("expected", "")))
        return f"{show(value)} is not one of {', '.join(allowed)}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}, got {show(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {show(value)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected an integer, got {show(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {show(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {show(value)}"
    if kind in ("string_type", "dict_type", "model_type", "list_type", "model_attributes_type"):
        expected = {"string_type": "a string", "list_type": "a list"}.get(kind, "a mapping")
        return f"expected {expected}, got {yaml_type(value)}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def unknown_field(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"unknown field; did you mean '{close[0]}'?" if close else "unknown field"


def show(value: Any) -> str:
    """A scalar as written in YAML, shortened; containers by their type only."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return yaml_type(value)


def yaml_type(value: Any) -> str:
    for python_type, name in _YAML_TYPE.items():
        if type(value) is python_type:
            return name
    return type(value).__name__


def field_names(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The upstream (alias) names a mapping at `loc` accepts, or [] when it is free-form."""
    target = _model_at(model, loc)
    if target is None:
        return []
    return [info.alias or name for name, info in target.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _element(current)
            continue
        model_type = _as_model(current)
        if model_type is None:
            return None
        fields = {info.alias or name: info for name, info in model_type.model_fields.items()}
        info = fields.get(part) or model_type.model_fields.get(part)
        if info is None:
            return None
        current = info.annotation
    return _as_model(current)


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _as_model(arg)
            if found is not None:
                return found
    return None


def _element(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            if get_origin(arg) is list:
                return get_args(arg)[0]
    if get_origin(annotation) is list:
        return get_args(annotation)[0]
    return None


def _clean(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    """Drop pydantic's own markers (`[key]`, `function-after[...]`) from an error location."""
    return tuple(
        part for part in loc if isinstance(part, int) or not (part.endswith("]") and "[" in part)
    )
