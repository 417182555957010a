"""Validator plugins run in every pass, `sync` and `agent` alike, and a plugin that cannot be
loaded is a reported problem, never silently skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.gitrepos import Remote, run_git
from support.plugin_manifests import SUSPENDED, install_plugin

from gitflink.cli import main

PLUGINS = Path(__file__).parents[1] / "plugins"
UNLABELLED = SUSPENDED  # it has no team label


def install(site: Path, entry_points: str) -> None:
    install_plugin(site, "example_plugin", "gitflink.validators", entry_points)


def test_agent_runs_the_installed_validator_plugins(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, "require-team = require_team_label:require_team_label")
    remote = Remote(tmp_path)
    remote.commit({"apps/orders.yaml": UNLABELLED})
    remote.push()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS), os.environ.get("PYTHONPATH", "")]),
        "GITFLINK_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "gitflink", "agent", "--repo", remote.url]
    command += ["--cache-dir", str(tmp_path / "cache"), "--interval", "60"]
    agent = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    path = "gitflink/status:status/default/flinkdeployment/orders.yaml"
    try:
        deadline = 30.0
        while deadline > 0:
            try:
                shown = run_git(remote.bare, "show", path)
            except subprocess.CalledProcessError:
                shown = ""
            if shown:
                break
            subprocess.run(["sleep", "0.2"], check=True)
            deadline -= 0.2
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=30)
    status = YAML(typ="safe").load(shown)
    assert "every resource needs a 'team' label" in status["error"]


def test_sync_reports_a_plugin_that_cannot_be_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(tmp_path / "site", "broken = no_such_module_here:validate")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    remote = Remote(tmp_path)
    remote.commit({"apps/orders.yaml": UNLABELLED})
    code = main(["sync", "--repo", str(remote.work), "--data-dir", str(tmp_path / "data")])
    out = capsys.readouterr().out
    assert code == 1
    assert "plugin broken (no_such_module_here:validate)" in out
    assert "could not load" in out
