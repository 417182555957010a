"""Ignore rules for manifest trees: `.gitflinkignore` (gitignore syntax, matched by `pathspec`)
plus `--exclude` patterns. Pure: the caller reads the ignore file; an excluded file is as if
it were absent (its resources count as removed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import pathspec

from gitflink.model.manifests import IGNORE_FILE

T = TypeVar("T")


class Ignore:
    """Patterns of the ignore file first, then the `--exclude` ones (which a `!` in the file
    therefore cannot re-include)."""

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        self.patterns = tuple(patterns)
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)

    def excludes(self, path: str) -> bool:
        """`path` is relative to the tree's top, with '/' separators."""
        return bool(self.patterns) and self._spec.match_file(path)


def rules(ignore_file: bytes | None, excludes: Sequence[str] = ()) -> Ignore:
    lines = ignore_file.decode("utf-8", errors="replace").splitlines() if ignore_file else []
    return Ignore([*lines, *excludes])


def manifests(files: Mapping[str, T], ignore: Ignore) -> dict[str, T]:
    """The entries of `files` that are manifests: not the ignore file, not excluded."""
    return {p: v for p, v in files.items() if p != IGNORE_FILE and not ignore.excludes(p)}
