"""GitStatusStore.load_all parses a document only when its blob changed: its own saves, or what
another agent pushed."""

from __future__ import annotations

from pathlib import Path

from support.gitrepos import run_git
from test_status_git import rid, stable, store


def _remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    return bare


def test_unchanged_documents_are_not_parsed_again(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    s = store(remote, tmp_path)
    s.save(rid("a"), stable(), "ok")
    s.save(rid("b"), stable(), "ok")
    s.flush()
    first = s.load_all()
    parses = s.parses
    second = s.load_all()
    assert s.parses == parses
    assert dict(second) == dict(first)


def test_own_save_and_another_agents_push_are_parsed_afresh(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    mine, other = store(remote, tmp_path, "mine"), store(remote, tmp_path, "other")
    mine.save(rid("a"), stable(), "ok")
    mine.save(rid("b"), stable(), "ok")
    mine.flush()
    before = mine.load_all()[rid("a")]
    changed = before  # the shared object, changed and saved as the reconciler does
    changed.observed_revision = "f" * 40
    mine.save(rid("a"), changed, "observed")
    after = mine.load_all()[rid("a")]
    assert after is not before and after.observed_revision == "f" * 40
    other.refresh()
    other.save(rid("b"), stable(revision="e" * 40), "upgrade")
    other.flush()
    mine.refresh()
    parses = mine.parses
    statuses = mine.load_all()
    assert statuses[rid("b")].applied_revision == "e" * 40
    assert mine.parses == parses + 1  # only the document that moved
