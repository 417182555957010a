"""What changed between two specs, and what each change means for a running job.

deepdiff finds the changed paths on the upstream-named dicts; the DiffKind declared on each model
field decides (model.resources), some by deployment mode. flinkConfiguration is already flattened
by the model, and its keys are classified by prefix, as the Flink Kubernetes Operator does.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from deepdiff import DeepDiff
from pydantic import BaseModel

from gitflink.core import redaction
from gitflink.model.diffkind import ByMode, DiffKind, PerKey
from gitflink.model.flinkconf import flink_text
from gitflink.model.plan import FieldChange

# flinkConfiguration keys classified by prefix; anything unlisted is UPGRADE.
CONFIG_KEY_KINDS: tuple[tuple[str, DiffKind | ByMode], ...] = (
    ("kubernetes.operator.", DiffKind.IGNORE),
    ("job.autoscaler.", DiffKind.IGNORE),
    ("parallelism.default", DiffKind.IGNORE),
    # Upstream applies per-vertex overrides in place, except in standalone mode.
    (
        "pipeline.jobvertex-parallelism-overrides",
        ByMode(native=DiffKind.SCALE, standalone=DiffKind.UPGRADE),
    ),
)
CONFIG_FIELD = "flinkConfiguration"
POD_TEMPLATE = "podTemplate"
# A pod template is a PodTemplateSpec: manifests written against older operators (a whole Pod)
# may carry these Pod-only fields, which no pod ever gets, so they are no change.
POD_ONLY_FIELDS = ("apiVersion", "kind", "status")
_MISSING = object()

Path = tuple[str | int, ...]


def config_key_kind(key: str, *, standalone: bool = False) -> DiffKind:
    for prefix, kind in CONFIG_KEY_KINDS:
        if key == prefix or (prefix.endswith(".") and key.startswith(prefix)):
            return kind.of(standalone) if isinstance(kind, ByMode) else kind
    return DiffKind.UPGRADE


def declared_kind(model: type[BaseModel], name: str) -> DiffKind | PerKey | ByMode | None:
    """The kind declared in field `name`'s Annotated metadata, None when undeclared."""
    for item in model.model_fields[name].metadata:
        if isinstance(item, DiffKind | PerKey | ByMode):
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
    Flink configuration values as the strings Flink reads (`2` and `"2"` are the same, a list
    and its values `;`-joined too), pod templates without Pod-only leftovers."""
    data: dict[str, Any] = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    config = data.get(CONFIG_FIELD)
    if isinstance(config, dict):
        data[CONFIG_FIELD] = {key: _config_text(value) for key, value in config.items()}
    for owner in (data, data.get("jobManager"), data.get("taskManager")):
        if isinstance(owner, dict) and isinstance(owner.get(POD_TEMPLATE), dict):
            template = owner[POD_TEMPLATE]
            owner[POD_TEMPLATE] = {k: v for k, v in template.items() if k not in POD_ONLY_FIELDS}
    return data


def _config_text(value: Any) -> Any:
    # The operator hands Flink a list option as its values joined by ';'.
    if isinstance(value, list):
        return ";".join(str(flink_text(item)) for item in value)
    return flink_text(value)


def diff_specs(
    before: BaseModel, after: BaseModel, *, standalone: bool = False
) -> tuple[FieldChange, ...]:
    """Every changed field of two specs of the same model, with its kind, secrets hidden.

    `standalone`: the deployment mode the new spec runs in (a session job: its cluster's)."""
    return diff_dicts(type(after), comparable(before), comparable(after), standalone=standalone)


def diff_dicts(
    model: type[BaseModel],
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    standalone: bool = False,
) -> tuple[FieldChange, ...]:
    if before == after:  # the common case, and far cheaper than DeepDiff
        return ()
    tree = DeepDiff(before, after, ignore_order=False, view="tree")
    paths: dict[Path, None] = {}
    for level in _levels(tree):
        raw = tuple(level.path(output_format="list"))
        paths.setdefault(_collapse(raw, before, after), None)
    changes = [_change(model, path, before, after, standalone) for path in paths]
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


def classify(model: type[BaseModel], path: Path, *, standalone: bool = False) -> DiffKind:
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
            if i + 1 >= len(path):
                return DiffKind.UPGRADE
            return config_key_kind(str(path[i + 1]), standalone=standalone)
        if isinstance(declared, ByMode):
            kind = declared.of(standalone)
        else:
            kind = DiffKind.UPGRADE if declared is None else declared
        current = nested_model(current, name)
    return kind


def _change(
    model: type[BaseModel], path: Path, before: Any, after: Any, standalone: bool
) -> FieldChange:
    old, new = _get(before, path), _get(after, path)
    old = None if old is _MISSING else old
    new = None if new is _MISSING else new
    kind = classify(model, path, standalone=standalone)
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
