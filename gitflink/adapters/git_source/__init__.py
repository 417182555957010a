"""Git through GitPython: resolve revisions and read manifest files without a checkout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath

import git

from gitflink.model.errors import SourceError
from gitflink.ports import Revision

MANIFEST_SUFFIXES = (".yaml", ".yml")


class LocalRepository:
    """A repository on this machine, read at any revision straight from the object store."""

    def __init__(self, path: str | Path, ref: str = "HEAD") -> None:
        try:
            self._repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise SourceError(f"{path}: not a Git repository") from error
        self.ref = ref

    @property
    def root(self) -> Path:
        return Path(self._repo.working_tree_dir or self._repo.git_dir)

    def resolve(self, rev: str) -> Revision:
        try:
            commit = self._repo.commit(rev)
        except (git.BadName, ValueError) as error:
            raise SourceError(f"unknown revision {rev!r}") from error
        return Revision(
            sha=commit.hexsha, ref=rev, committed_at=datetime.fromtimestamp(commit.committed_date)
        )

    def fetch(self) -> Revision:
        return self.resolve(self.ref)

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        tree = self._repo.commit(revision.sha).tree
        wanted = [PurePosixPath(r.strip("/")) for r in roots if r.strip("/") not in ("", ".")]
        files: dict[str, bytes] = {}
        for item in tree.traverse():
            if not isinstance(item, git.Blob) or not item.path.endswith(MANIFEST_SUFFIXES):
                continue
            path = PurePosixPath(item.path)
            if wanted and not any(path == w or w in path.parents for w in wanted):
                continue
            files[item.path] = item.data_stream.read()
        return files
