"""What changed between two specs, and what each change means for a running job.

deepdiff finds the changed paths on the upstream-named dicts; the DiffKind declared on each model
field decides (model.resources). flinkConfiguration is already flattened by the model, and its
keys are classified by prefix, as the Flink Kubernetes Operator does.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from deepdiff import DeepDiff
from pydantic import BaseModel

from gitflink.core import redaction
from gitflink.model.diffkind import DiffKind, PerKey
from gitflink.model.flinkconf import flink_text
from gitflink.model.plan import FieldChange

# flinkConfiguration keys classified by prefix; anything unlisted is UPGRADE.
CONFIG_KEY_KINDS: tuple[tuple[str, DiffKind], ...] = (
    ("kubernetes.operator.", DiffKind.IGNORE),
    ("job.autoscaler.", DiffKind.IGNORE),
    ("parallelism.default", DiffKind.IGNORE),
    ("pipeline.jobvertex-parallelism-overrides", DiffKind.SCALE),
)
CONFIG_FIELD = "flinkConfiguration"
_MISSING = object()

Path = tuple[str | int, ...]


def config_key_kind(key: str) -> DiffKind:
    for prefix, kind in CONFIG_KEY_KINDS:
        if key == prefix or (prefix.endswith(".") and key.startswith(prefix)):
            return kind
    return DiffKind.UPGRADE


def declared_kind(model: type[BaseModel], name: str) -> DiffKind | PerKey | None:
    """The kind declared in field `name`'s Annotated metadata, None when undeclared."""
    for item in model.model_fields[name].metadata:
        if isinstance(item, DiffKind | PerKey):
            return item
    return None


def nested_model(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The model class a field holds (unwrapping `X | None`), None for plain values."""
    annotation = model.model_fields[name].annotation
    candidates = (
        get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    )
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


@cache
def _fields_by_alias(model: type[BaseModel]) -> dict[str, str]:
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def comparable(spec: BaseModel) -> dict[str, Any]:
    """The spec as compared: upstream names, defaults filled in, unset (None) values left out,
    Flink configuration values as the strings Flink reads (`2` and `"2"` are the same)."""
    data: dict[str, Any] = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    config = data.get(CONFIG_FIELD)
    if isinstance(config, dict):
        data[CONFIG_FIELD] = {key: flink_text(value) for key, value in config.items()}
    return data


def diff_specs(before: BaseModel, after: BaseModel) -> tuple[FieldChange, ...]:
    """Every changed field of two specs of the same model, with its kind, secrets hidden."""
    return diff_dicts(type(after), comparable(before), comparable(after))


def diff_dicts(
    model: type[BaseModel], before: dict[str, Any], after: dict[str, Any]
) -> tuple[FieldChange, ...]:
    if before == after:  # the common case, and far cheaper than DeepDiff
        return ()
    tree = DeepDiff(before, after, ignore_order=False, view="tree")
    paths: dict[Path, None] = {}
    for level in _levels(tree):
        raw = tuple(level.path(output_format="list"))
        paths.setdefault(_collapse(raw, before, after), None)
    changes = [_change(model, path, before, after) for path in paths]
    return tuple(sorted(changes, key=lambda change: change.path))


def _levels(tree: Any) -> Iterable[Any]:
    for report in tree.values():
        yield from report


def _collapse(path: Path, before: Any, after: Any) -> Path:
    """Cut the path at the first index into a list of plain values: `args` changed, shown whole,
    reads better than three shifted positions."""
    for i, part in enumerate(path):
        if isinstance(part, int):
            container = path[:i]
            lists = [_get(side, container) for side in (before, after)]
            if all(
                not isinstance(item, dict | list)
                for lst in lists
                if isinstance(lst, list)
                for item in lst
            ):
                return container
    return path


def _get(data: Any, path: Path) -> Any:
    for part in path:
        in_list = isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data)
        if in_list or (isinstance(part, str) and isinstance(data, dict) and part in data):
            data = data[part]
        else:
            return _MISSING
    return data


def classify(model: type[BaseModel], path: Path) -> DiffKind:
    """The kind of a change at `path`: the deepest declared field on the way decides."""
    kind = DiffKind.UPGRADE
    current: type[BaseModel] | None = model
    for i, part in enumerate(path):
        if current is None or not isinstance(part, str):
            break
        name = _fields_by_alias(current).get(part)
        if name is None:
            return DiffKind.UPGRADE  # not a declared field: the safe default
        declared = declared_kind(current, name)
        if isinstance(declared, PerKey):
            return config_key_kind(str(path[i + 1])) if i + 1 < len(path) else DiffKind.UPGRADE
        kind = DiffKind.UPGRADE if declared is None else declared
        current = nested_model(current, name)
    return kind


def _change(model: type[BaseModel], path: Path, before: Any, after: Any) -> FieldChange:
    old, new = _get(before, path), _get(after, path)
    old = None if old is _MISSING else old
    new = None if new is _MISSING else new
    kind = classify(model, path)
    last = path[-1] if path else ""
    # Upstream: a nonce set from null counts, a nonce cleared to null does not.
    if isinstance(last, str) and last.endswith("Nonce") and new is None:
        kind = DiffKind.IGNORE
    parents = [_get(side, path[:-1]) for side in (before, after)]
    return FieldChange(
        path=render_path(path),
        before=redaction.redact_at(path, old, parents[0]),
        after=redaction.redact_at(path, new, parents[1]),
        kind=kind,
    )


def render_path(path: Path) -> str:
    """`spec.job.parallelism`, `spec.flinkConfiguration[state.backend.type]`, `...args[0]`."""
    text = "spec"
    for i, part in enumerate(path):
        # Flink configuration keys contain dots: brackets keep them one key.
        if isinstance(part, int) or (i == 1 and path[0] == CONFIG_FIELD):
            text += f"[{part}]"
        else:
            text += f".{part}"
    return text


def diff_kind(changes: Iterable[FieldChange]) -> DiffKind | None:
    """The diff's kind: the maximum over its changes, None when nothing changed."""
    return max((change.kind for change in changes), default=None)


def changed(changes: Iterable[FieldChange], path: str) -> FieldChange | None:
    return next((change for change in changes if change.path == path), None)
