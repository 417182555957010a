"""Git through GitPython: follow a remote branch, tag or commit in a shallow cache and read
manifest files by blob id. `LocalRepository` reads a repository on this machine in place."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import git

from gitflink.adapters.git_source.access import GitCredentials, git_env, redact, split_url
from gitflink.model.errors import SignatureError, SourceError
from gitflink.model.manifests import IGNORE_FILE, MANIFEST_SUFFIXES
from gitflink.ports import Revision

TRACKED = "refs/gitflink/tracked"


def _wanted(roots: Sequence[str]) -> list[PurePosixPath]:
    return [PurePosixPath(r.strip("/")) for r in roots if r.strip("/") not in ("", ".")]


def _selected(path: str, wanted: list[PurePosixPath]) -> bool:
    if path == IGNORE_FILE:
        return True  # the repository's ignore rules apply whatever the roots
    if not path.endswith(MANIFEST_SUFFIXES):
        return False
    p = PurePosixPath(path)
    return not wanted or any(p == w or w in p.parents for w in wanted)


def _read_blob(repo: git.Repo, oid: str) -> bytes:
    try:
        data: bytes = repo.odb.stream(bytes.fromhex(oid)).read()
    except (ValueError, git.BadName, git.BadObject) as error:
        raise SourceError(f"blob {oid} is not in the repository") from error
    return data


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
            sha=commit.hexsha,
            ref=rev,
            committed_at=datetime.fromtimestamp(commit.committed_date, tz=UTC),
        )

    def fetch(self) -> Revision:
        return self.resolve(self.ref)

    def _blobs(self, revision: Revision, roots: Sequence[str]) -> list[git.Blob]:
        try:
            tree = self._repo.commit(revision.sha).tree
        except (git.BadName, ValueError) as error:
            raise SourceError(f"unknown revision {revision.sha!r}") from error
        wanted = _wanted(roots)
        return [
            item
            for item in tree.traverse()
            if isinstance(item, git.Blob) and _selected(str(item.path), wanted)
        ]

    def blob_ids(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, str]:
        """{path: blob id} of the manifests `read_tree` returns (tree entries, no blob reads)."""
        return {str(item.path): item.hexsha for item in self._blobs(revision, roots)}

    def read_blobs(self, ids: Iterable[str]) -> Mapping[str, bytes]:
        return {oid: _read_blob(self._repo, oid) for oid in ids}

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        return {str(item.path): item.data_stream.read() for item in self._blobs(revision, roots)}


class GitSource:
    """Follows `ref` (branch, tag, full commit sha, or None for the remote's default branch)
    of `url` in a bare, shallow cache under `cache_dir`.

    A pass whose remote ref did not move costs one `git ls-remote` and no object reads.
    Everything downstream is keyed by commit sha and blob id, so force-pushes and rewritten
    history leave nothing stale behind. Thread-safe.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path,
        ref: str | None = None,
        credentials: GitCredentials | None = None,
        verify_keyring: Path | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.url, url_credentials = split_url(url)
        self.credentials = (credentials or GitCredentials()).merged(url_credentials)
        self.ref = ref
        self.timeout = timeout
        self.verify_keyring = verify_keyring
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.cache = cache_dir / "git" / digest
        self._env = git_env(self.url, self.credentials)
        self._lock = threading.Lock()
        self._revision: Revision | None = None
        self._verified: set[str] = set()
        self._listing: tuple[tuple[str, tuple[str, ...]], dict[str, str]] | None = None
        self._contents: dict[str, bytes] = {}
        self._repo = self._open_cache()

    def _open_cache(self) -> git.Repo:
        if (self.cache / "HEAD").exists():
            repo = git.Repo(self.cache)
        else:
            self.cache.mkdir(parents=True, exist_ok=True)
            repo = git.Repo.init(self.cache, bare=True)
        with repo.config_writer() as config:
            # The URL carries no credentials (split_url moved them out), so storing it is safe.
            if not config.has_section('remote "origin"'):
                config.add_section('remote "origin"')
            config.set_value('remote "origin"', "url", self.url)
            config.set_value("core", "fsync", "committed")
        return repo

    def _git(self, *args: str) -> str:
        try:
            out: str = self._repo.git.execute(
                ["git", *args], env=self._env, kill_after_timeout=self.timeout
            )
        except git.GitCommandError as error:
            stderr = redact(str(error.stderr or "").strip(), self.credentials)
            raise SourceError(f"git {args[0]} {redact(self.url)}: {stderr}") from None
        return out

    # -- resolving the ref --------------------------------------------------------------

    def _remote_target(self) -> tuple[str, str]:
        """(refname, commit-or-tag oid) the tracked ref points at on the remote right now."""
        ref: str | None = self.ref
        if ref is None:
            out = self._git("ls-remote", "--symref", "origin", "HEAD")
            for line in out.splitlines():
                if line.startswith("ref: "):
                    ref = line[5:].split("\t")[0]
        if ref is None:
            raise SourceError(f"{redact(self.url)}: remote has no default branch")
        candidates = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
        out = self._git("ls-remote", "origin", *candidates, *(f"{c}^{{}}" for c in candidates))
        found: dict[str, str] = {}
        for line in out.splitlines():
            oid, _, name = line.partition("\t")
            found[name] = oid
        for name in candidates:
            # An annotated tag lists its commit as `<tag>^{}`; prefer that peeled id.
            target = found.get(f"{name}^{{}}") or found.get(name)
            if target:
                return name, target
        what = "branch" if ref.startswith("refs/heads/") or "/" not in ref else "ref"
        raise SourceError(
            f"{what} {ref!r} not found at {redact(self.url)} (deleted or renamed?); "
            "nothing is applied, running deployments are left as they are"
        )

    def _has_commit(self, sha: str) -> bool:
        try:
            self._repo.git.execute(["git", "cat-file", "-e", f"{sha}^{{commit}}"])
        except git.GitCommandError:
            return False
        return True

    def fetch(self) -> Revision:
        with self._lock:
            pinned = (
                self.ref is not None
                and len(self.ref) == 40
                and not self.ref.strip("0123456789abcdef")
            )
            if pinned:
                assert self.ref is not None
                name, sha = self.ref, self.ref
            else:
                name, sha = self._remote_target()
            if self._revision is not None and self._revision.sha == sha:
                return self._revision
            if not self._has_commit(sha):
                # Shallow: only the tip's objects. `+` because the remote may have been
                # force-pushed; the previous tip simply becomes garbage.
                source = sha if pinned else name
                self._git("fetch", "--depth=1", "--no-tags", "--force", "origin", source)
                if not self._has_commit(sha):
                    if pinned:
                        raise SourceError(f"{redact(self.url)}: commit {sha} could not be fetched")
                    # The ref moved between ls-remote and fetch: follow the newer tip fetched.
                    sha = self._repo.git.execute(["git", "rev-parse", "FETCH_HEAD^{commit}"])
            self._verify(sha)
            self._repo.git.execute(["git", "update-ref", TRACKED, sha])
            commit = self._repo.commit(sha)
            when = datetime.fromtimestamp(commit.committed_date, tz=UTC)
            self._revision = Revision(sha=sha, ref=name, committed_at=when)
            return self._revision

    def _verify(self, sha: str) -> None:
        if self.verify_keyring is None or sha in self._verified:
            return
        env = {"GNUPGHOME": str(self.verify_keyring)}
        try:
            self._repo.git.execute(["git", "verify-commit", sha], env=env)
        except git.GitCommandError:
            raise SignatureError(
                f"commit {sha} is not signed by a trusted key; nothing from it is applied"
            ) from None
        self._verified.add(sha)

    # -- reading manifests --------------------------------------------------------------

    def blob_ids(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, str]:
        """{path: blob id} of the manifests `read_tree` returns; equal ids mean equal bytes."""
        key = (revision.sha, tuple(roots))
        with self._lock:
            if self._listing is not None and self._listing[0] == key:
                return dict(self._listing[1])
            wanted = _wanted(roots)
            pathspecs = [str(w) for w in wanted] + ([IGNORE_FILE] if wanted else [])
            out = self._git("ls-tree", "-r", "-z", "--full-tree", revision.sha, "--", *pathspecs)
            ids: dict[str, str] = {}
            for entry in out.split("\0"):
                meta, _, path = entry.partition("\t")
                parts = meta.split()
                if len(parts) == 3 and parts[1] == "blob" and _selected(path, wanted):
                    ids[path] = parts[2]
            self._listing = (key, ids)
            return dict(ids)

    def read_blobs(self, ids: Iterable[str]) -> Mapping[str, bytes]:
        """{blob id: bytes}. Recently read blobs come from memory."""
        result: dict[str, bytes] = {}
        with self._lock:
            for oid in ids:
                data = self._contents.get(oid)
                if data is None:
                    data = self._contents[oid] = _read_blob(self._repo, oid)
                result[oid] = data
        return result

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        ids = self.blob_ids(revision, roots)
        blobs = self.read_blobs(ids.values())
        with self._lock:
            # Keep only the current tree's blobs: memory stays proportional to the repository.
            self._contents = {oid: self._contents[oid] for oid in ids.values()}
        return {path: blobs[oid] for path, oid in ids.items()}
