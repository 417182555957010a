"""The agent asks the stores other writers write too whether one asked for something before a
pass (`_Refreshing`): the status branch and custom resources, not the data dir's files. What
each store's `refresh` answers is proven on the real stores
(tests/runtime/test_rollback_requests.py, tests/k8s/test_k8s_rollback_cr.py)."""

from __future__ import annotations

from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.cli.agent import _Refreshing


def test_the_agent_refreshes_the_stores_other_writers_share() -> None:
    assert issubclass(GitStatusStore, _Refreshing)
    assert issubclass(CrStatusStore, _Refreshing)
    assert not issubclass(FileStatusStore, _Refreshing)
