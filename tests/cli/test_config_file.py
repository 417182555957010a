"""One settings object from flags, environment and a config file (`--config`, GITFLINK_CONFIG):
flags over environment over file over defaults; a strict file (unknown keys and secrets are
refused); a default Flink configuration under every FlinkDeployment's own, reloaded by a
running agent when the file changes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.gitrepos import Remote
from support.plugin_manifests import suspended

from gitflink.agent.reloading import ConfigWatch
from gitflink.cli import build_parser, main, options
from gitflink.cli.agent import _Reconciling
from gitflink.model.ids import Kind, ResourceId
from gitflink.settings import Settings, SettingsError

FILE = """\
repo: https://git.example.com/team/apps.git
branch: main
paths: [streaming]
interval: 15
selfHeal: false
listen: 127.0.0.1:9090
logLevel: WARNING
listenerOptions: {audit: {url: "https://audit.example.com"}}
flinkConfiguration:
  taskmanager.numberOfTaskSlots: 4
  state: {checkpoints.num-retained: 3}
  execution.checkpointing.unaligned.enabled: true
"""
ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
SUSPENDED = suspended('{taskmanager.numberOfTaskSlots: "2"}')


def write(tmp_path: Path, text: str = FILE) -> Path:
    path = tmp_path / "gitflink.yaml"
    path.write_text(text)
    return path


def test_the_file_sets_what_neither_environment_nor_flags_set(tmp_path: Path) -> None:
    path = write(tmp_path)
    env = {"HOME": "/home/u", "GITFLINK_CONFIG": str(path), "GITFLINK_LOG_LEVEL": "debug"}
    settings = Settings.from_env(env)
    assert (settings.repo, settings.branch, settings.paths) == (
        "https://git.example.com/team/apps.git",
        "main",
        ("streaming",),
    )
    assert (settings.interval_seconds, settings.self_heal) == (15.0, False)
    assert settings.log_level == "DEBUG"  # the environment wins over the file
    assert settings.listener_options == {"audit": {"url": "https://audit.example.com"}}
    assert settings.default_flink_configuration == {
        "taskmanager.numberOfTaskSlots": "4",  # Flink reads text: YAML's 4 is "4"
        "state.checkpoints.num-retained": "3",  # nested and dotted: the same key
        "execution.checkpointing.unaligned.enabled": "true",
    }
    assert settings.config_file == path


def test_flags_win_over_environment_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path)
    monkeypatch.setenv("GITFLINK_LISTEN", "0.0.0.0:7070")
    args = build_parser().parse_args(
        ["agent", "--config", str(path), "--interval", "5", "--listen", "127.0.0.1:1"]
    )
    settings = options.settings_from(args)
    assert (settings.interval_seconds, settings.listen) == (5.0, "127.0.0.1:1")
    args = build_parser().parse_args(["agent", "--config", str(path)])
    assert options.settings_from(args).listen == "0.0.0.0:7070"  # environment over file


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("intervall: 5\n", "intervall"),
        ("gitToken: hunter2\n", "gitToken"),  # secrets come from the environment only
        ("maxPruneShare: 2\n", "maxPruneShare"),
        ("logLevel: loud\n", "logLevel"),
        ("- a list\n", "expected a mapping"),
        ("repo: [unclosed\n", "not YAML"),
    ],
)
def test_a_file_that_does_not_fit_is_refused_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        Settings.from_env({"GITFLINK_CONFIG": str(write(tmp_path, text))})
    assert "hunter2" not in str(refused.value)


def test_the_cli_refuses_a_broken_file_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", "--config", str(write(tmp_path, "nope: 1\n")), str(tmp_path)])
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_a_changed_file_is_reloaded_and_what_needs_a_restart_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = write(tmp_path)
    env = {"GITFLINK_CONFIG": str(path)}
    watch = ConfigWatch(Settings.from_env(env), lambda: Settings.from_env(env))
    assert watch.changed() is None  # unchanged
    path.write_text(
        FILE.replace("numberOfTaskSlots: 4", "numberOfTaskSlots: 8").replace(
            "branch: main", "branch: release"
        )
    )
    new = watch.changed()
    assert new is not None
    assert new.default_flink_configuration["taskmanager.numberOfTaskSlots"] == "8"
    assert new.branch == "main"  # needs a restart: not applied
    assert "config file changed branch: restart the agent to apply" in caplog.text
    path.write_text("selfHeal: perhaps\n")
    assert watch.changed() is None
    assert "config file not reloaded, the settings in force stay" in caplog.text
    assert watch.current.default_flink_configuration["taskmanager.numberOfTaskSlots"] == "8"


def test_the_agent_lays_the_default_configuration_under_each_deployment_and_reloads_it(
    tmp_path: Path,
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"orders.yaml": SUSPENDED})
    remote.push()
    path = write(tmp_path, "flinkConfiguration: {taskmanager.numberOfTaskSlots: 4, a.b: 1}\n")
    env = {
        "GITFLINK_CONFIG": str(path),
        "GITFLINK_DATA_DIR": str(tmp_path / "data"),
        "GITFLINK_CACHE_DIR": str(tmp_path / "cache"),
    }

    def build() -> Settings:
        settings = Settings.from_env(env)
        return settings.__class__(**{**settings.__dict__, "repo": remote.url})

    agent = _Reconciling(build(), reload=build)
    assert agent().ok
    assert applied_configuration(agent) == {"taskmanager.numberOfTaskSlots": "2", "a.b": "1"}
    path.write_text("flinkConfiguration: {taskmanager.numberOfTaskSlots: 4, a.b: 5}\n")
    assert agent().ok
    assert applied_configuration(agent) == {"taskmanager.numberOfTaskSlots": "2", "a.b": "5"}


def applied_configuration(agent: _Reconciling) -> object:
    assert agent.ports is not None
    status = agent.ports.status.load(ORDERS)
    assert status is not None and status.reconciliation.last_applied_spec is not None
    return status.reconciliation.last_applied_spec["flinkConfiguration"]


def test_plan_with_the_same_config_sees_the_defaults_as_deployed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = Remote(tmp_path)
    remote.commit({"apps/orders.yaml": SUSPENDED})
    path = write(tmp_path, "flinkConfiguration: {a.b: 1}\n")
    common = ["--repo", str(remote.work), "--data-dir", str(tmp_path / "data")]
    assert main(["sync", *common, "--config", str(path)]) == 0
    capsys.readouterr()
    assert main(["plan", "--head", "HEAD", *common, "--config", str(path)]) == 0
    assert "0 to change, 1 unchanged." in capsys.readouterr().out
    assert main(["plan", "--head", "HEAD", *common]) == 0
    shown = capsys.readouterr().out
    assert "spec.flinkConfiguration[a.b]: 1 -> (unset)" in shown  # without it: a change


def test_leader_election_from_the_file_under_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("leaderElection: true\nleaseName: flink-gitops\nleaseNamespace: ops\n")
    settings = Settings.from_env({"HOME": str(tmp_path)}, config)
    assert (settings.leader_election, settings.lease_name, settings.lease_namespace) == (
        True,
        "flink-gitops",
        "ops",
    )
    env = {"HOME": str(tmp_path), "GITFLINK_LEADER_ELECTION": "false"}
    assert not Settings.from_env(env, config).leader_election
