"""Listener plugins from entry points (`gitflink.listeners`) and the built-in listeners the
settings ask for are told what `sync` did; a plugin that cannot be loaded is logged, never
fatal; a commit status on GitHub carries the applied revision and keeps its token secret."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from support.fakes import fake_world
from support.gitrepos import Remote
from support.http_recorder import http_recorder
from support.passes import app
from support.plugin_manifests import SUSPENDED, install_plugin

from gitflink import wiring
from gitflink.cli import main
from gitflink.cli.sync import sync
from gitflink.runtime.listener_loading import load_listeners
from gitflink.settings import Settings, SettingsError

PLUGINS = Path(__file__).parents[1] / "plugins"
TOKEN = "canary-token-77ab"


def install(site: Path, entry_points: str) -> None:
    install_plugin(site, "listener_plugin", "gitflink.listeners", entry_points)


def test_plugins_are_loaded_with_their_options_and_broken_ones_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        tmp_path / "site",
        "to-file = file_listener:FileListener\nbroken = no_such_module_here:Listener\n"
        "not-one = json:dumps",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(PLUGINS))
    loaded = load_listeners({"to-file": {"path": str(tmp_path / "told")}})
    assert [n.name for n in loaded.listeners] == ["to-file"]
    assert loaded.errors[0].startswith("broken (no_such_module_here:Listener): ")
    assert loaded.errors[1].startswith("not-one (json:dumps): ")


def test_a_pass_tells_a_plugin_and_posts_github_commit_statuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path / "site", "to-file = file_listener:FileListener")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(PLUGINS))
    world = fake_world({"streaming/orders.yaml": app("orders")})
    with http_recorder() as server:
        settings = Settings.from_env(
            {
                "GITFLINK_COMMIT_STATUS": "github",
                "GITFLINK_COMMIT_STATUS_API": server.url,
                "GITFLINK_COMMIT_STATUS_TOKEN": TOKEN,
            }
        )
        settings = replace(
            settings,
            repo="https://github.com/team/apps.git",
            listener_options={"to-file": {"path": str(tmp_path / "told")}},
        )
        result = sync(world.ports, (), notifier=wiring.notifier(settings))
    assert result.ok
    sha = world.source.revision.sha
    assert [json.loads(r.body)["state"] for r in server.requests] == ["pending", "success"]
    assert {r.path for r in server.requests} == {f"/repos/team/apps/statuses/{sha}"}
    body = json.loads(server.requests[1].body)
    assert body["description"] == "applied: deploy streaming/orders"
    told = (tmp_path / "told").read_text().splitlines()
    assert told == [
        f"pending {sha[:7]} applying: deploy streaming/orders",
        f"success {sha[:7]} applied: deploy streaming/orders",
    ]


def test_sync_posts_the_commit_status_and_never_shows_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    sha = remote.commit({"apps/orders.yaml": SUSPENDED})
    with http_recorder() as server:
        monkeypatch.setenv("GITFLINK_COMMIT_STATUS", "gitlab")
        monkeypatch.setenv("GITFLINK_COMMIT_STATUS_API", server.url)
        monkeypatch.setenv("GITFLINK_COMMIT_STATUS_REPOSITORY", "group/apps")
        monkeypatch.setenv("GITFLINK_COMMIT_STATUS_TOKEN", TOKEN)
        args = ["sync", "--repo", str(remote.work), "--data-dir", str(tmp_path / "data")]
        code = main(["-vv", *args])
    assert code == 0
    [request] = server.requests  # nothing ran (a suspended job), so no pending
    assert request.path == f"/projects/group%2Fapps/statuses/{sha}"
    assert json.loads(request.body) == {
        "state": "success",
        "description": "1 unchanged",
        "name": "gitflink",
    }
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err


def test_a_commit_status_without_a_token_is_a_usage_error() -> None:
    settings = Settings.from_env({"GITFLINK_COMMIT_STATUS": "gitlab"})
    with pytest.raises(SettingsError, match="GITFLINK_COMMIT_STATUS_TOKEN"):
        wiring.notifier(settings, plugins=False)


@pytest.mark.parametrize(
    ("repo", "path"),
    [
        ("https://github.com/team/apps.git", "team/apps"),
        ("git@gitlab.example.com:group/sub/apps.git", "group/sub/apps"),
        ("https://user:pw@git.example.com/team/apps", "team/apps"),
        ("./local-checkout", ""),
    ],
)
def test_the_commit_status_repository_defaults_to_the_repo_path(repo: str, path: str) -> None:
    assert wiring.repository_path(repo) == path
