"""YAML text to plain data, one document at a time, remembering where every key sits.

Documents are split at `---` / `...` markers before loading, so a syntax error in one document
never hides the documents around it. Positions are 1-based (line, column) of each key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

Position = tuple[int, int]

_START = re.compile(r"---(?=\s|$)")
_END = re.compile(r"\.\.\.(?=\s|$)")
_DUPLICATE = re.compile(r'found duplicate key (".*?") with value')
MAX_NODES = 200_000  # per document, aliases expanded: `&a [*a, *a]` nested ten times is 2**10
_MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document with content: its data as plain Python and its key positions."""

    index: int  # 0-based among the documents of the file that have content
    data: Any
    line: int  # 1-based line where the content starts
    positions: Mapping[str, Position]
    # A dotted key and a nested map can spell the same path; the later spelling's position.
    repeated: Mapping[str, Position]


@dataclass(frozen=True, slots=True)
class BrokenDocument:
    """A document that could not be read; `text` lets the caller guess what it was."""

    index: int
    line: int
    column: int
    message: str
    text: str


class _Unreadable(Exception):
    """Raised inside the walk when a document cannot become plain data."""


def load_documents(text: str, max_nodes: int = MAX_NODES) -> list[Document | BrokenDocument]:
    """Every document of `text` in order; never raises. A document with more than `max_nodes`
    nodes (aliases expanded) is refused before it is built."""
    results: list[Document | BrokenDocument] = []
    for start, chunk in split_documents(text):
        try:
            nodes = _expanded_nodes(chunk, max_nodes)
            if nodes > max_nodes:
                message = (
                    f"document has more than {max_nodes} YAML nodes (aliases expanded); "
                    "refused before loading (limit: max_manifest_nodes)"
                )
                results.append(BrokenDocument(len(results), start + 1, 1, message, chunk))
                continue
            loaded = list(YAML(typ="rt").load_all(chunk))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = start + (mark.line + 1 if mark else 1)
            column = mark.column + 1 if mark else 1
            message = _without_values(exc.problem or exc.context or "invalid YAML")
            results.append(
                BrokenDocument(len(results), line, column, f"YAML syntax error: {message}", chunk)
            )
            continue
        except Exception as exc:  # the reader rejects some characters without a mark
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            results.append(
                BrokenDocument(len(results), start + 1, 1, f"YAML error: {reason}", chunk)
            )
            continue
        for node in loaded:
            if node is None:
                continue
            results.append(_document(len(results), node, start, chunk, max_nodes))
    return results


def _expanded_nodes(chunk: str, limit: int) -> int:
    """Nodes of `chunk` with every alias counted as the node it repeats, from the event stream
    alone (nothing is built), stopping once past `limit`. Without aliases a document cannot
    have more nodes than characters, so a short one without '*' needs no count."""
    if "*" not in chunk and len(chunk) <= limit:
        return 0
    count = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    for event in YAML(typ="rt").parse(chunk):
        if isinstance(event, AliasEvent):
            count += sizes.get(event.anchor, 1)
        elif isinstance(event, ScalarEvent):
            count += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            count += 1
            open_nodes.append((event.anchor, count - 1))
        elif isinstance(event, CollectionEndEvent) and open_nodes:
            anchor, began = open_nodes.pop()
            if anchor:
                sizes[anchor] = count - began
        if count > limit:
            break
    return count


def _without_values(message: str) -> str:
    # ruamel quotes both values of a duplicate key; one may be a password.
    duplicate = _DUPLICATE.match(message)
    return f"duplicate key {duplicate.group(1)}" if duplicate else message


def split_documents(text: str) -> list[tuple[int, str]]:
    """(0-based first line, text) per document; a line starting with `---` opens a new one."""
    chunks: list[tuple[int, list[str]]] = [(0, [])]
    for number, line in enumerate(text.split("\n")):
        current = chunks[-1][1]
        if _START.match(line) or (line.startswith("%") and _has_content(current)):
            chunks.append((number, [line]))
        elif _END.match(line):
            current.append(line)
            chunks.append((number + 1, []))
        else:
            current.append(line)
    return [(start, "\n".join(lines)) for start, lines in chunks if _has_content(lines)]


def _has_content(lines: list[str]) -> bool:
    return any(
        line.strip() and not line.lstrip().startswith(("#", "%", "---", "...")) for line in lines
    )


def _document(
    index: int, node: Any, offset: int, chunk: str, max_nodes: int
) -> Document | BrokenDocument:
    walk = _Walk(offset, max_nodes)
    line, column = _own_position(node, offset)
    try:
        data = walk.plain(node, "", 0)
    except (_Unreadable, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, _Unreadable) else "document is nested too deeply"
        return BrokenDocument(index, line, column, reason, chunk)
    first_key = min(walk.positions.values(), default=(line, column))
    return Document(index, data, first_key[0], walk.positions, walk.repeated)


def _own_position(node: Any, offset: int) -> Position:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return offset + lc.line + 1, lc.col + 1
    return offset + 1, 1


class _Walk:
    """Converts ruamel's round-trip nodes into dicts, lists and scalars, recording positions."""

    def __init__(self, offset: int, max_nodes: int) -> None:
        self.offset, self.max_nodes = offset, max_nodes
        self.positions: dict[str, Position] = {}
        self.repeated: dict[str, Position] = {}
        self.nodes = 0
        self.active: set[int] = set()

    def plain(self, node: Any, path: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.max_nodes:  # a backstop: load_documents counts before building
            raise _Unreadable(f"document has more than {self.max_nodes} YAML nodes")
        if depth > _MAX_DEPTH:
            raise _Unreadable("document is nested too deeply")
        if isinstance(node, dict | list):
            if id(node) in self.active:
                raise _Unreadable("recursive alias: a node contains itself")
            self.active.add(id(node))
            try:
                if isinstance(node, dict):
                    return self._mapping(node, path, depth)
                return self._sequence(node, path, depth)
            finally:
                self.active.discard(id(node))
        return scalar(node)

    def _mapping(self, node: dict[Any, Any], path: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in node.items():
            text = key_text(key)
            child = f"{path}.{text}" if path else text
            self._remember(child, node, "key", key)
            result[text] = self.plain(value, child, depth + 1)
        return result

    def _sequence(self, node: list[Any], path: str, depth: int) -> list[Any]:
        result: list[Any] = []
        for i, value in enumerate(node):
            child = f"{path}[{i}]"
            self._remember(child, node, "item", i)
            result.append(self.plain(value, child, depth + 1))
        return result

    def _remember(self, path: str, node: Any, how: str, which: Any) -> None:
        lc = getattr(node, "lc", None)
        try:
            line, column = getattr(lc, how)(which)
        except (AttributeError, KeyError, IndexError, TypeError):
            return  # merged (`<<:`) keys have no position of their own; the parent's is used
        where = (self.offset + line + 1, column + 1)
        if path in self.positions:
            self.repeated[path] = where
        else:
            self.positions[path] = where


def key_text(key: Any) -> str:
    """Mapping keys as a YAML-to-JSON conversion (kubectl) would spell them."""
    if isinstance(key, str):
        return str(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int | float):
        return str(key)
    raise _Unreadable(f"mapping keys must be strings, found a {type(key).__name__}")


def scalar(value: Any) -> Any:
    if isinstance(value, TaggedScalar):
        return scalar(value.value)
    if isinstance(value, bool) or value is None:
        return value
    if type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):  # JSON has no dates: Kubernetes sees the text
        return value.isoformat()
    return str(value)


def position_of(positions: Mapping[str, Position], path: str, default: Position) -> Position:
    """The position of `path`, else of its closest ancestor that has one, else `default`."""
    while path:
        if path in positions:
            return positions[path]
        path = parent_path(path)
    return default


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""
