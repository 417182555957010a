"""Git: the repository followed, its revisions, the status branch and revert branches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from gitflink.adapters.git_source import GitSource as RemoteRepository
from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.git_source.access import GitCredentials, git_env, is_remote, split_url
from gitflink.adapters.git_source.revert import RevertBranches
from gitflink.adapters.status_git import GitStatusStore
from gitflink.ports import (
    NULL_METER,
    GitSource,
    Meter,
    Revision,
)
from gitflink.settings import Settings

if TYPE_CHECKING:
    pass


def local_repository(path: str | Path, ref: str = "HEAD") -> LocalRepository:
    return LocalRepository(path, ref)


def git_credentials(settings: Settings) -> GitCredentials:
    return GitCredentials(
        token=settings.git_token,
        username=settings.git_username,
        password=settings.git_password,
        ssh_key=settings.git_ssh_key,
        known_hosts=settings.git_known_hosts,
    )


def remote_repository(settings: Settings, url: str, ref: str | None = None) -> RemoteRepository:
    """Follows `ref` (default: the remote's HEAD) of `url` in a shallow cache under the cache
    dir, with the credentials and signature keyring from settings."""
    return RemoteRepository(
        url,
        cache_dir=settings.cache_dir,
        ref=ref,
        credentials=git_credentials(settings),
        verify_keyring=settings.verify_keyring,
    )


def source_for(settings: Settings, repo: str, ref: str | None = None) -> GitSource:
    """A URL (https, ssh, git@, file://) is fetched into the cache; a local path is read in
    place at `ref` (default HEAD), so unpushed commits of a checkout can be synced too.
    Raises SourceError for a path that is not a repository."""
    if is_remote(repo) or settings.verify_keyring is not None:
        # Signatures are checked on fetch, so a local path under verification is fetched too.
        return remote_repository(settings, repo, ref)
    return local_repository(repo, ref or "HEAD")


class Revisions(Protocol):
    """Any revision of one repository, read without a checkout (what `plan` compares)."""

    def resolve(self, rev: str) -> Revision: ...

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]: ...


class RemoteRevisions:
    """Revisions of a remote, each branch, tag or full commit id fetched shallowly on demand
    into the same cache `sync` and `agent` use."""

    def __init__(self, settings: Settings, url: str) -> None:
        self._settings, self._url = settings, url
        self._sources: dict[str, RemoteRepository] = {}

    def resolve(self, rev: str) -> Revision:
        source = remote_repository(self._settings, self._url, None if rev == "HEAD" else rev)
        revision = source.fetch()
        self._sources[revision.sha] = source
        return revision

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        return self._sources[revision.sha].read_tree(revision, roots)


def revisions(settings: Settings, repo: str) -> Revisions:
    """A local path is read in place (any revision git can name); a URL through the cache.
    Raises SourceError for a local path that is not a repository."""
    if is_remote(repo):
        return RemoteRevisions(settings, repo)
    return LocalRepository(repo)


StatusBranch = GitStatusStore  # the status branch store, for callers that flush it


def git_status_store(settings: Settings, meter: Meter = NULL_METER) -> GitStatusStore:
    """The status branch of `status_repo` (default: the repository followed), with the same
    credentials; credentials written into the URL are moved out of it first."""
    url, found = split_url(settings.status_repo or settings.repo or ".")
    return GitStatusStore(
        url,
        cache_dir=settings.cache_dir,
        branch=settings.status_branch,
        env=git_env(url, git_credentials(settings).merged(found)),
        author=(settings.git_author_name, settings.git_author_email),
        meter=meter,
    )


def revert_branches(settings: Settings, source: GitSource | None) -> RevertBranches | None:
    """Branches that revert a rolled-back change, pushed to the repository the source follows
    (GITFLINK_REVERT_BRANCHES; off by default)."""
    if not settings.revert_branches:
        return None
    if isinstance(source, RemoteRepository):
        url = source.url
    elif isinstance(source, LocalRepository):
        url = str(source.root)
    else:
        return None
    author = (settings.git_author_name, settings.git_author_email)
    return RevertBranches(url, credentials=git_credentials(settings), author=author)


def source_id(settings: Settings) -> str:
    """What a sync or agent is a source of: repository, branch and paths (Flux's inventory
    key). A local repository is named by its absolute path."""
    repo = settings.repo or "."
    if not is_remote(repo):
        repo = str(Path(repo).resolve())
    paths = ",".join(sorted(p.strip("/") for p in settings.paths)) or "/"
    return f"{repo}#{settings.branch or 'HEAD'}:{paths}"


def repository_path(repo: str) -> str:
    """`team/apps` from https://host/team/apps.git or git@host:team/apps.git; '' for a path."""
    if not is_remote(repo):
        return ""
    url, _ = split_url(repo)
    path = url.split(":", 1)[1] if url.startswith("git@") else urlsplit(url).path
    return path.strip("/").removesuffix(".git")
