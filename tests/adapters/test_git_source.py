"""GitSource against real repositories: following refs, shallow cache, rewrites, failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.gitrepos import Remote, run_git, spec

from gitflink.adapters.git_source import GitSource, LocalRepository
from gitflink.model.errors import SourceError


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    r = Remote(tmp_path)
    r.commit({"apps/a.yaml": spec("a"), "apps/b.yml": spec("b"), "README.md": "hi"}, "init")
    r.commit({"other/c.yaml": spec("c")}, "second")
    r.push()
    return r


def source(remote: Remote, tmp_path: Path, **kwargs: object) -> GitSource:
    return GitSource(remote.url, cache_dir=tmp_path / "cache", **kwargs)  # type: ignore[arg-type]


def test_fetch_returns_branch_tip_and_reads_only_manifests_under_paths(
    remote: Remote, tmp_path: Path
) -> None:
    src = source(remote, tmp_path, ref="main")
    revision = src.fetch()
    assert revision.sha == run_git(remote.work, "rev-parse", "HEAD")
    assert revision.ref == "refs/heads/main"
    assert set(src.read_tree(revision, ["apps"])) == {"apps/a.yaml", "apps/b.yml"}
    assert set(src.read_tree(revision, ["apps", "other/"])) == {
        "apps/a.yaml",
        "apps/b.yml",
        "other/c.yaml",
    }
    assert src.read_tree(revision, ["."])["apps/a.yaml"] == spec("a").encode()


def test_cache_is_shallow(remote: Remote, tmp_path: Path) -> None:
    src = source(remote, tmp_path)
    src.fetch()
    assert run_git(src.cache, "rev-parse", "--is-shallow-repository") == "true"
    assert run_git(src.cache, "rev-list", "--count", "refs/gitflink/tracked") == "1"


def test_default_branch_is_followed_when_no_ref_is_given(tmp_path: Path) -> None:
    r = Remote(tmp_path, branch="trunk")
    sha = r.commit({"a.yaml": spec("a")})
    r.push()
    revision = source(r, tmp_path).fetch()
    assert (revision.sha, revision.ref) == (sha, "refs/heads/trunk")


def test_unchanged_remote_fetches_nothing(remote: Remote, tmp_path: Path) -> None:
    src = source(remote, tmp_path)
    first = src.fetch()
    fetch_head = src.cache / "FETCH_HEAD"
    stamp = fetch_head.stat().st_mtime_ns
    assert src.fetch() == first
    assert fetch_head.stat().st_mtime_ns == stamp


def test_a_new_agent_reuses_the_cache_without_fetching(remote: Remote, tmp_path: Path) -> None:
    first = source(remote, tmp_path).fetch()
    stamp = (tmp_path / "cache").stat().st_mtime_ns
    fetch_head = next((tmp_path / "cache").rglob("FETCH_HEAD"))
    before = fetch_head.stat().st_mtime_ns
    assert source(remote, tmp_path).fetch().sha == first.sha
    assert fetch_head.stat().st_mtime_ns == before
    assert (tmp_path / "cache").stat().st_mtime_ns == stamp


def test_new_commit_is_fetched_and_only_changed_blobs_get_new_ids(
    remote: Remote, tmp_path: Path
) -> None:
    src = source(remote, tmp_path)
    before = src.blob_ids(src.fetch(), ["apps"])
    remote.commit({"apps/b.yml": spec("b", parallelism=4)})
    remote.push()
    revision = src.fetch()
    after = src.blob_ids(revision, ["apps"])
    assert after["apps/a.yaml"] == before["apps/a.yaml"]
    assert after["apps/b.yml"] != before["apps/b.yml"]
    assert b"parallelism: 4" in src.read_tree(revision, ["apps"])["apps/b.yml"]


def test_force_push_to_unrelated_history_leaves_nothing_stale(
    remote: Remote, tmp_path: Path
) -> None:
    src = source(remote, tmp_path)
    src.fetch()
    rewritten = remote.orphan({"apps/z.yaml": spec("z")})
    remote.push(force=True)
    revision = src.fetch()
    assert revision.sha == rewritten
    assert set(src.read_tree(revision, ["."])) == {"apps/z.yaml"}


def test_deleted_branch_is_a_source_error_naming_the_branch(remote: Remote, tmp_path: Path) -> None:
    run_git(remote.work, "push", "-q", "origin", "main:release")
    src = source(remote, tmp_path, ref="release")
    src.fetch()
    run_git(remote.work, "push", "-q", "origin", "--delete", "release")
    with pytest.raises(SourceError, match="'release' not found"):
        src.fetch()


def test_unreachable_remote_is_a_source_error(remote: Remote, tmp_path: Path) -> None:
    src = source(remote, tmp_path)
    src.fetch()
    shutil.move(remote.bare, tmp_path / "gone.git")
    with pytest.raises(SourceError, match="ls-remote"):
        src.fetch()


def test_tag_and_pinned_commit_are_followed(remote: Remote, tmp_path: Path) -> None:
    first = run_git(remote.work, "rev-parse", "HEAD~1")
    run_git(remote.work, "tag", "-a", "v1", "-m", "release", first)
    remote.push("v1")
    assert source(remote, tmp_path, ref="v1").fetch().sha == first
    pinned = GitSource(remote.url, cache_dir=tmp_path / "other", ref=first)
    revision = pinned.fetch()
    assert revision.sha == first
    assert set(pinned.read_tree(revision, ["."])) == {"apps/a.yaml", "apps/b.yml"}


def test_unknown_pinned_commit_is_a_source_error(remote: Remote, tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        source(remote, tmp_path, ref="0" * 40).fetch()


def test_local_path_works_as_repo(remote: Remote, tmp_path: Path) -> None:
    src = GitSource(str(remote.work), cache_dir=tmp_path / "cache")
    assert src.url.startswith("file://")
    assert src.fetch().sha == run_git(remote.work, "rev-parse", "HEAD")


def test_local_repository_reads_a_checkout_in_place(remote: Remote) -> None:
    repo = LocalRepository(remote.work)
    assert set(repo.read_tree(repo.fetch(), ["apps"])) == {"apps/a.yaml", "apps/b.yml"}


def test_local_repository_lists_the_same_blob_ids_as_the_fetched_cache(
    remote: Remote, tmp_path: Path
) -> None:
    src = source(remote, tmp_path)
    revision = src.fetch()
    local = LocalRepository(remote.work)
    ids = local.blob_ids(local.fetch(), ["apps"])
    assert ids == src.blob_ids(revision, ["apps"])
    blobs = local.read_blobs(ids.values())
    assert {path: blobs[oid] for path, oid in ids.items()} == src.read_tree(revision, ["apps"])


def test_reading_a_blob_that_is_not_there_is_a_source_error(remote: Remote, tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        LocalRepository(remote.work).read_blobs(["0" * 40])
    src = source(remote, tmp_path)
    src.fetch()
    with pytest.raises(SourceError):
        src.read_blobs(["0" * 40])
