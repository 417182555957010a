"""Revert branches pushed to a real (local, bare) Git remote after a rollback (docs/rollback.md)."""

from __future__ import annotations

from pathlib import Path

from support.gitrepos import Remote, run_git

from gitflink.adapters.git_source.revert import RevertBranches
from gitflink.model.ids import Kind, ResourceId
from gitflink.ports import RevertRequest

ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")


def test_a_revert_branch_puts_the_manifest_back_and_is_pushed_once(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    stable = remote.commit({"orders.yaml": "rate: 10\n", "other.yaml": "a: 1\n"}, "v1")
    bad = remote.commit({"orders.yaml": "rate: 20\n"}, "v2")
    tip = remote.commit({"other.yaml": "a: 2\n"}, "unrelated")
    remote.push()
    request = RevertRequest(ORDERS, "orders.yaml", stable, bad, tip, "its job FAILED")
    branches = RevertBranches(remote.url, author=("gitflink", "gitflink@example.com"))
    assert branches.publish(request)
    branch = f"gitflink/revert-orders-{bad[:7]}"
    assert request.branch == branch
    head = run_git(remote.bare, "rev-parse", f"refs/heads/{branch}")
    assert run_git(remote.bare, "rev-parse", f"{head}^") == tip  # on top of what Git says now
    assert run_git(remote.bare, "show", f"{head}:orders.yaml") == "rate: 10"
    assert run_git(remote.bare, "show", f"{head}:other.yaml") == "a: 2"  # the rest untouched
    message = run_git(remote.bare, "log", "-1", "--format=%B", head)
    assert f"Revert streaming/orders to {stable[:7]}" in message and "FAILED" in message
    assert not branches.publish(request)  # exists: never pushed twice, never forced
    assert run_git(remote.bare, "rev-parse", f"refs/heads/{branch}") == head
