"""Manifest files to desired resources and problems. Pure: bytes in, values out, never raises.

Each FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot (flink.apache.org/v1beta1) becomes
a `Desired`; other documents are listed as not managed; everything wrong becomes a `Problem`
pinned to file:line:column and, when known, to the resource it breaks (only that one stalls).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from gitflink.core import suggesting
from gitflink.core.limits import DEFAULT_LIMITS, Limits, too_large
from gitflink.core.yaml_loading import (
    BrokenDocument,
    Document,
    Position,
    load_documents,
    position_of,
)
from gitflink.model.ids import API_VERSION, DEFAULT_NAMESPACE, Kind, ResourceId
from gitflink.model.problems import Problem, Severity
from gitflink.model.resources import MODEL_BY_KIND, AnyResource, FlinkDeployment, FlinkVersion

FLINK_GROUP = "flink.apache.org/"
CANARY_LABEL = "flink.apache.org/canary"
CONFIG = "spec.flinkConfiguration"
# Real upstream kinds that gitflink leaves alone (listed as not managed, not misspellings).
OTHER_FLINK_KINDS = frozenset({"FlinkBlueGreenDeployment"})
NEAR_MISS = 0.8  # difflib ratio above which an apiVersion is taken for a typo of API_VERSION
_KIND_LINE = re.compile(r"^kind:\s*['\"]?([A-Za-z]+)", re.MULTILINE)
_META_NAME = re.compile(r"^metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([^'\"\s#]+)", re.M)
_META_NAMESPACE = re.compile(
    r"^metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+namespace:\s*['\"]?([^'\"\s#]+)", re.M
)


@dataclass(frozen=True, slots=True)
class Desired:
    """A resource as Git declares it, and where: `line` is where its document starts."""

    resource: AnyResource
    file: str
    line: int
    positions: Mapping[str, Position] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> ResourceId:
        return self.resource.id

    def position(self, path: str) -> Position:
        """(line, column) of a dotted field path (`spec.job.upgradeMode`), or its closest parent."""
        return position_of(self.positions, path, (self.line, 1))

    def problem(self, path: str, message: str, severity: Severity = Severity.ERROR) -> Problem:
        line, column = self.position(path)
        return Problem(self.file, line, column, path, message, severity, self.id)


@dataclass(frozen=True, slots=True)
class NotManaged:
    """A document gitflink leaves alone (a Secret, a kustomization, plain configuration...)."""

    file: str
    index: int  # 0-based among the file's documents
    kind: str | None
    name: str | None = None
    reason: str = "not a Flink resource"

    def __str__(self) -> str:
        what = " ".join(part for part in (self.kind or "(no kind)", self.name) if part)
        return f"{self.file} (document {self.index + 1}): {what}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    desired: tuple[Desired, ...] = ()
    problems: tuple[Problem, ...] = ()
    not_managed: tuple[NotManaged, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)

    @property
    def broken(self) -> frozenset[ResourceId]:
        """Resources with errors: keep what is deployed for them, never prune them."""
        return frozenset(p.resource for p in self.problems if p.is_error and p.resource)

    @property
    def unattributed_errors(self) -> tuple[Problem, ...]:
        """Errors that belong to no known resource (e.g. YAML that cannot be read at all)."""
        return tuple(p for p in self.problems if p.is_error and p.resource is None)


def parse_files(files: Mapping[str, bytes], limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    """Parse every file; all problems at once; one broken document never hides the others."""
    desired: list[Desired] = []
    problems: list[Problem] = []
    not_managed: list[NotManaged] = []
    for path in sorted(files):
        if len(files[path]) > limits.max_file_bytes:
            problems.append(too_large(path, len(files[path]), limits))
            continue
        try:
            _parse_file(
                path, files[path], desired, problems, not_managed, max_nodes=limits.max_nodes
            )
        except Exception as exc:  # a parser bug must not take the whole pass down
            problems.append(Problem(path, 0, 0, "", f"could not be read: {type(exc).__name__}"))
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    return ParseResult(tuple(desired), tuple(problems), tuple(not_managed))


def _parse_file(
    path: str,
    raw: bytes,
    desired: list[Desired],
    problems: list[Problem],
    not_managed: list[NotManaged],
    *,
    max_nodes: int,
) -> None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        message = f"not UTF-8 text (byte {exc.start}, 0x{raw[exc.start]:02x})"
        problems.append(Problem(path, line, column, "", message))
        return
    for document in load_documents(text, max_nodes):
        if isinstance(document, BrokenDocument):
            resource = _guess_id(document.text)
            problems.append(
                Problem(
                    path, document.line, document.column, "", document.message, resource=resource
                )
            )
            continue
        outcome = _parse_document(path, document)
        if isinstance(outcome, NotManaged):
            not_managed.append(outcome)
            continue
        found, document_problems = outcome
        problems.extend(document_problems)
        if found is not None:
            desired.append(found)


def _parse_document(
    path: str, document: Document
) -> NotManaged | tuple[Desired | None, list[Problem]]:
    data = document.data
    if not isinstance(data, dict):
        return NotManaged(path, document.index, None, reason="not a mapping")
    kind, api_version = data.get("kind"), data.get("apiVersion")
    name = _text(_get(data, "metadata", "name"))
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return NotManaged(path, document.index, _text(kind), name, "no apiVersion and kind")
    start = (document.line, 1)

    def problem(field_path: str, message: str, resource: ResourceId | None = None) -> Problem:
        line, column = position_of(document.positions, field_path, start)
        return Problem(path, line, column, field_path, message, resource=resource)

    flinkish = api_version.startswith(FLINK_GROUP) or _near_api_version(api_version)
    if kind not in MODEL_BY_KIND:
        close = difflib.get_close_matches(kind, list(MODEL_BY_KIND), n=1, cutoff=0.8)
        if flinkish and kind not in OTHER_FLINK_KINDS and close:
            return None, [problem("kind", f"unknown kind {kind!r}; did you mean {close[0]!r}?")]
        return NotManaged(path, document.index, kind, name)
    if not flinkish:
        return NotManaged(path, document.index, kind, name, f"apiVersion {api_version}")
    resource = _resource_id(kind, data)
    if api_version != API_VERSION:
        # A near miss is an error that holds the resource: read as "not managed", it would
        # count as removed from Git and its running job would be deleted.
        message = f"{api_version!r} is not supported; did you mean {API_VERSION!r}?"
        return None, [problem("apiVersion", message, resource)]
    if _is_canary(data):
        # The operator answers canaries itself to prove it is alive; nothing to deploy.
        return NotManaged(path, document.index, kind, name, "operator canary resource")
    return _build(path, document, kind, resource)


def _near_api_version(api_version: str) -> bool:
    """`flink.apache.org.v1beta1`, `flink.apache/v1beta1`, `Flink.apache.org/v1beta1`...: a typo of
    the one group/version gitflink reads, not another API that happens to reuse a kind name."""
    ratio = difflib.SequenceMatcher(None, api_version.lower(), API_VERSION).ratio()
    return ratio >= NEAR_MISS


def _build(
    path: str, document: Document, kind: str, resource: ResourceId | None
) -> tuple[Desired | None, list[Problem]]:
    problems: list[Problem] = []
    skip: set[str] = set()
    config = _get(document.data, "spec", "flinkConfiguration")
    if isinstance(config, dict):
        for key in _conflicting_keys(config):
            full = f"{CONFIG}.{key}"
            where = document.repeated.get(full) or position_of(document.positions, full, (0, 0))
            message = f"{key!r} is set twice with different values (nested and dotted spellings)"
            problems.append(Problem(path, where[0], where[1], full, message, resource=resource))
            skip.add(CONFIG)
    model = MODEL_BY_KIND[kind]
    try:
        built = model.model_validate(document.data)
    except ValidationError as exc:
        problems += suggesting.problems_from_errors(
            exc.errors(),
            model,
            file=path,
            positions=document.positions,
            default=(document.line, 1),
            resource=resource,
            skip=frozenset(skip),
        )
        return None, problems
    if problems:  # a conflicting key is an error even if the model accepted one spelling
        return None, problems
    desired = Desired(built, path, document.line, document.positions)
    if isinstance(built, FlinkDeployment) and built.spec.flink_version is not None:
        version = built.spec.flink_version
        if version.deprecated:
            message = f"{version.value} is deprecated; upgrade to {_supported()[0]} or newer"
            problems.append(desired.problem("spec.flinkVersion", message, Severity.WARNING))
    return desired, problems


def _conflicting_keys(config: dict[str, Any], prefix: str = "") -> list[str]:
    """Flat keys written twice (nested and dotted) with different values."""
    values: dict[str, Any] = {}
    conflicts: list[str] = []
    for flat, value in _flat_items(config, prefix):
        if flat in values and values[flat] != value and flat not in conflicts:
            conflicts.append(flat)
        values.setdefault(flat, value)
    return conflicts


def _flat_items(config: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            items += _flat_items(value, f"{prefix}{key}.")
        elif not isinstance(value, dict):
            items.append((f"{prefix}{key}", value))
    return items


def _supported() -> list[str]:
    return [v.value for v in FlinkVersion if not v.deprecated]


def _is_canary(data: dict[str, Any]) -> bool:
    labels = _get(data, "metadata", "labels")
    return isinstance(labels, dict) and str(labels.get(CANARY_LABEL, "")).lower() == "true"


def _resource_id(kind: str, data: dict[str, Any]) -> ResourceId | None:
    name = _get(data, "metadata", "name")
    namespace = _get(data, "metadata", "namespace")
    if not isinstance(name, str) or not name:
        return None
    return ResourceId(
        Kind(kind), namespace if isinstance(namespace, str) else DEFAULT_NAMESPACE, name
    )


def _guess_id(text: str) -> ResourceId | None:
    """Which resource an unreadable document meant, so that only it stalls."""
    kind, name = _KIND_LINE.search(text), _META_NAME.search(text)
    if not kind or not name or kind.group(1) not in MODEL_BY_KIND:
        return None
    namespace = _META_NAMESPACE.search(text)
    return ResourceId(
        Kind(kind.group(1)), namespace.group(1) if namespace else DEFAULT_NAMESPACE, name.group(1)
    )


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
