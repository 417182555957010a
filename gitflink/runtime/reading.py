"""Manifests of a revision, parsed once per blob: a long-lived reader keeps each file's parse
result by (path, blob id), so a pass parses only files that changed and none when the revision
did not move. The repository's `.gitflinkignore` and the reader's `excludes` leave files out;
`limits` refuse files and documents too large to read safely."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gitflink.core import ignoring, parsing, validation
from gitflink.core.limits import DEFAULT_LIMITS, Limits
from gitflink.core.validators import Validator
from gitflink.model.artifacts import DEFAULT_POLICY, ArtifactPolicy
from gitflink.model.errors import PathNotFound
from gitflink.model.ids import ResourceId
from gitflink.model.manifests import IGNORE_FILE
from gitflink.model.problems import Problem
from gitflink.ports import GitSource, Revision


@dataclass(frozen=True)
class Manifests:
    """What a revision says: the parse result and every problem (parsing, then validation)."""

    parsed: parsing.ParseResult
    problems: tuple[Problem, ...]
    # The file each resource was last seen in, this revision or an earlier one still in the
    # tree: a file that stops parsing then holds back the deletion of what it declared.
    known_files: Mapping[ResourceId, str] = field(default_factory=dict)


class ManifestReader:
    """Keep one across passes (the agent and `sync` hold it in their PassConfig). Not meant to be
    shared by passes running at the same time; a lock keeps it consistent if it is."""

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        excludes: Sequence[str] = (),
        artifacts: ArtifactPolicy = DEFAULT_POLICY,
    ) -> None:
        self.limits, self.excludes, self.artifacts = limits, tuple(excludes), artifacts
        self._files: dict[tuple[str, str], parsing.ParseResult] = {}
        self._last: tuple[tuple[object, ...], Manifests] | None = None
        self._seen: dict[ResourceId, str] = {}
        self._lock = threading.Lock()
        self.parses = 0  # files parsed since creation: tests and the benchmark read it
        self.listings = 0  # times blob ids were listed (0 on a pass at an unchanged revision)

    def read(
        self,
        source: GitSource,
        revision: Revision,
        roots: Sequence[str] = (),
        validators: Sequence[Validator] = (),
    ) -> Manifests:
        """The manifests under `roots` at `revision`. Raises SourceError when Git cannot be read."""
        key = (revision.sha, tuple(roots), tuple(id(v) for v in validators))
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
            ids = source.blob_ids(revision, roots)
            self.listings += 1
            # Before the ignore rules: a path whose manifests are all ignored is no typo.
            missing = [root for root in roots if not _has_manifests(ids, root)]
            if missing:
                raise PathNotFound(
                    f"path {', '.join(map(repr, missing))} matches no manifests at "
                    f"{revision.short}: nothing is planned, so nothing is deleted "
                    "(check --path)"
                )
            ignore_file = ids.get(IGNORE_FILE)
            found = source.read_blobs([ignore_file]).get(ignore_file) if ignore_file else None
            ids = ignoring.manifests(ids, ignoring.rules(found, self.excludes))
            wanted = set(ids.items())
            new = sorted(wanted - self._files.keys())
            blobs = source.read_blobs({oid for _, oid in new})
            for path, oid in new:
                self._files[(path, oid)] = parsing.parse_files({path: blobs[oid]}, self.limits)
                self.parses += 1
            # Only the current tree's results stay: memory follows the repository, not history.
            self._files = {pair: self._files[pair] for pair in wanted}
            parsed = merge(self._files[(path, ids[path])] for path in sorted(ids))
            checked = validation.validate(
                parsed.desired, validators, broken=parsed.broken, artifacts=self.artifacts
            )
            seen = {rid: path for rid, path in self._seen.items() if path in ids}
            seen.update((d.id, d.file) for d in parsed.desired)
            self._seen = seen
            manifests = Manifests(parsed, (*parsed.problems, *checked), dict(seen))
            self._last = (key, manifests)
            return manifests


def _has_manifests(ids: Mapping[str, str], root: str) -> bool:
    prefix = root.strip("/")
    if prefix in ("", "."):
        return True
    return any(path == prefix or path.startswith(prefix + "/") for path in ids)


def merge(results: Iterable[parsing.ParseResult]) -> parsing.ParseResult:
    """One ParseResult from per-file results given in path order, equal to what
    `parsing.parse_files` returns for all those files at once: desired and not-managed in path
    then document order, problems sorted (stably) by file, line, column."""
    desired: list[parsing.Desired] = []
    problems: list[Problem] = []
    not_managed: list[parsing.NotManaged] = []
    for result in results:
        desired.extend(result.desired)
        problems.extend(result.problems)
        not_managed.extend(result.not_managed)
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    return parsing.ParseResult(tuple(desired), tuple(problems), tuple(not_managed))
