"""docs/configuration.md's table of environment variables is exactly what Settings reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.recording_env import Recording

from gitflink.settings import Settings, SettingsError

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented() -> set[str]:
    names = set()
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `([A-Z_]+)`( \(`_FILE`\))? \|", line)
        if match:
            names.add(match[1])
            if match[2]:
                names.add(f"{match[1]}_FILE")
    return names


def test_every_variable_settings_reads_is_documented_and_nothing_else() -> None:
    env = Recording()
    Settings.from_env(env)
    assert env.asked == documented()


def test_each_documented_variable_changes_the_settings(tmp_path: Path) -> None:
    baseline = Settings.from_env({"HOME": "/home/u"})
    config = tmp_path / "gitflink.yaml"
    config.write_text("interval: 5\n")
    values = {
        "GITFLINK_CONFIG": str(config),
        "GITFLINK_LOG_LEVEL": "debug",
        "GITFLINK_LOG_FORMAT": "json",
        "GITFLINK_ALLOW_MASS_PRUNE": "true",
        "GITFLINK_MAX_PRUNE_SHARE": "0.9",
        "GITFLINK_MAX_MANIFEST_BYTES": "1000",
        "GITFLINK_MAX_MANIFEST_NODES": "1000",
        "GITFLINK_SELF_HEAL": "false",
        "GITFLINK_RESTART_FAILED": "true",
        "GITFLINK_RESTART_BACKOFF": "1",
        "GITFLINK_RESTART_BACKOFF_MAX": "60",
        "GITFLINK_STABILITY_WINDOW": "5",
        "GITFLINK_READINESS_TIMEOUT": "20",
        "GITFLINK_REVERT_BRANCHES": "true",
        "GITFLINK_ARTIFACT_SCHEMES": "https,file",
        "GITFLINK_ARTIFACT_ALLOW_RESTRICTED_HOSTS": "true",
        "GITFLINK_ARTIFACT_MAX_BYTES": "1000",
        "GITFLINK_ARTIFACT_TIMEOUT_SECONDS": "5",
        "GITFLINK_RUNTIME": "kubernetes",
        "GITFLINK_LEADER_ELECTION": "true",
        "GITFLINK_STATUS": "cr",
        "GITFLINK_COMMIT_STATUS": "gitlab",
        "GITFLINK_LISTENER_TIMEOUT": "3",
        "GITFLINK_FLINK_REST_TIMEOUT": "4",
    }
    for name in sorted(documented() - {"HOME"}):
        if name.endswith("_FILE"):
            continue  # read only when the variable itself is unset: tested below
        env = {"HOME": "/home/u", name: values.get(name, "/some/value")}
        assert Settings.from_env(env) != baseline, name


def test_a_file_variable_is_read_for_its_secret(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    settings = Settings.from_env({"GITFLINK_GIT_TOKEN_FILE": str(token)})
    assert settings.git_token is not None and settings.git_token.reveal() == "t0ken"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GITFLINK_ALLOW_MASS_PRUNE", "perhaps"),
        ("GITFLINK_MAX_PRUNE_SHARE", "half"),
        ("GITFLINK_MAX_PRUNE_SHARE", "1.5"),
        ("GITFLINK_SELF_HEAL", "sometimes"),
        ("GITFLINK_RESTART_BACKOFF", "soon"),
        ("GITFLINK_STABILITY_WINDOW", "-5"),
        ("GITFLINK_ARTIFACT_SCHEMES", "https,s3"),
        ("GITFLINK_ARTIFACT_ALLOW_RESTRICTED_HOSTS", "maybe"),
        ("GITFLINK_ARTIFACT_MAX_BYTES", "lots"),
        ("GITFLINK_COMMIT_STATUS", "bitbucket"),
        ("GITFLINK_LISTENER_TIMEOUT", "never"),
    ],
)
def test_a_guard_variable_with_an_unusable_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"HOME": "/home/u", name: value})


def test_the_artifact_policy_comes_from_the_agents_settings_only() -> None:
    """Defaults: https, restricted hosts refused; GITFLINK_ARTIFACT_* widen it."""
    default = Settings.from_env({"HOME": "/home/u"}).artifact_policy()
    assert (default.schemes, default.restricted_hosts) == (frozenset({"https"}), True)
    env = {
        "HOME": "/home/u",
        "GITFLINK_ARTIFACT_SCHEMES": "HTTPS, file",
        "GITFLINK_ARTIFACT_ALLOW_RESTRICTED_HOSTS": "true",
    }
    wide = Settings.from_env(env).artifact_policy()
    assert (wide.schemes, wide.restricted_hosts) == (frozenset({"https", "file"}), False)
