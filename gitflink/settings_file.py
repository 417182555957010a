"""The config file (`--config FILE`, GITFLINK_CONFIG): YAML with the settings' names in camelCase,
checked strictly (an unknown key is an error, not ignored), turned into Settings field values.
It never holds secrets: those come from the environment (`*_FILE` for mounted Secrets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gitflink.model.flinkconf import flatten_configuration

Scalar = str | int | float | bool


class ConfigFileError(ValueError):
    """A config file that cannot be read or does not fit (the message names file and key)."""


class ConfigFile(BaseModel):
    """One key per setting; each is documented in docs/configuration.md#config-file."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    repo: str | None = None
    branch: str | None = None
    paths: list[str] | None = None
    excludes: list[str] | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    status_repo: str | None = None
    status_branch: str | None = None
    git_author_name: str | None = None
    git_author_email: str | None = None
    git_known_hosts: Path | None = None
    verify_signatures: Path | None = None
    interval: float | None = Field(default=None, ge=0)
    drift_interval: float | None = Field(default=None, ge=0)
    listen: str | None = None
    allow_mass_prune: bool | None = None
    max_prune_share: float | None = Field(default=None, ge=0, le=1)
    self_heal: bool | None = None
    restart_failed: bool | None = None
    restart_backoff: float | None = Field(default=None, ge=0)
    restart_backoff_max: float | None = Field(default=None, ge=0)
    stability_window: float | None = Field(default=None, ge=0)
    max_manifest_bytes: int | None = Field(default=None, gt=0)
    max_manifest_nodes: int | None = Field(default=None, gt=0)
    commit_status: Literal["github", "gitlab"] | None = None
    commit_status_api: str | None = None
    commit_status_repository: str | None = None
    listener_timeout: float | None = Field(default=None, ge=0)
    listener_options: dict[str, dict[str, Any]] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    log_format: Literal["console", "json"] | None = None
    leader_election: bool | None = None
    lease_name: str | None = None
    lease_namespace: str | None = None
    flink_configuration: dict[str, Any] | None = None


# Keys whose Settings field is named differently (the rest are the same name).
RENAMED = {
    "verify_signatures": "verify_keyring",
    "interval": "interval_seconds",
    "drift_interval": "drift_interval_seconds",
    "restart_backoff": "restart_backoff_seconds",
    "restart_backoff_max": "restart_backoff_max_seconds",
    "stability_window": "stability_window_seconds",
    "listener_timeout": "listener_timeout_seconds",
    "flink_configuration": "default_flink_configuration",
}


def read(path: Path) -> dict[str, Any]:
    """{Settings field: value} for every key the file sets. Raises ConfigFileError."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigFileError(f"{path}: {error.strerror or error}") from None
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise ConfigFileError(f"{path}: not YAML: {error}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: expected a mapping of settings")
    try:
        parsed = ConfigFile.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigFileError(f"{path}: {problems}") from None
    values: dict[str, Any] = {}
    for name in parsed.model_fields_set:
        value = getattr(parsed, name)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
        values[RENAMED.get(name, name)] = value
    if "default_flink_configuration" in values:
        # Flink reads every value as text; YAML's 3 and true are "3" and "true" to it.
        # Nested and dotted spellings are the same key, as in a manifest.
        flat = flatten_configuration(values["default_flink_configuration"])
        values["default_flink_configuration"] = {k: _text(v) for k, v in flat.items()}
    return values


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


# Settings fields that an environment variable sets too: the variable wins over the file.
ENV_OF = {
    "data_dir": "GITFLINK_DATA_DIR",
    "cache_dir": "GITFLINK_CACHE_DIR",
    "status_repo": "GITFLINK_STATUS_REPO",
    "status_branch": "GITFLINK_STATUS_BRANCH",
    "git_author_name": "GITFLINK_GIT_AUTHOR_NAME",
    "git_author_email": "GITFLINK_GIT_AUTHOR_EMAIL",
    "git_known_hosts": "GITFLINK_GIT_KNOWN_HOSTS",
    "verify_keyring": "GITFLINK_GIT_KEYRING",
    "listen": "GITFLINK_LISTEN",
    "allow_mass_prune": "GITFLINK_ALLOW_MASS_PRUNE",
    "max_prune_share": "GITFLINK_MAX_PRUNE_SHARE",
    "self_heal": "GITFLINK_SELF_HEAL",
    "restart_failed": "GITFLINK_RESTART_FAILED",
    "restart_backoff_seconds": "GITFLINK_RESTART_BACKOFF",
    "restart_backoff_max_seconds": "GITFLINK_RESTART_BACKOFF_MAX",
    "stability_window_seconds": "GITFLINK_STABILITY_WINDOW",
    "readiness_timeout_seconds": "GITFLINK_READINESS_TIMEOUT",
    "revert_branches": "GITFLINK_REVERT_BRANCHES",
    "max_manifest_bytes": "GITFLINK_MAX_MANIFEST_BYTES",
    "max_manifest_nodes": "GITFLINK_MAX_MANIFEST_NODES",
    "commit_status": "GITFLINK_COMMIT_STATUS",
    "commit_status_api": "GITFLINK_COMMIT_STATUS_API",
    "commit_status_repository": "GITFLINK_COMMIT_STATUS_REPOSITORY",
    "listener_timeout_seconds": "GITFLINK_LISTENER_TIMEOUT",
    "log_level": "GITFLINK_LOG_LEVEL",
    "log_format": "GITFLINK_LOG_FORMAT",
    "leader_election": "GITFLINK_LEADER_ELECTION",
    "lease_name": "GITFLINK_LEASE_NAME",
    "lease_namespace": "GITFLINK_LEASE_NAMESPACE",
}


def under_environment(values: dict[str, Any], env: Any) -> dict[str, Any]:
    """The file's values an environment variable does not override (`env`: a Mapping)."""
    kept = {k: v for k, v in values.items() if not env.get(ENV_OF.get(k, ""))}
    if "data_dir" in kept:
        kept["data_dir_given"] = True
    return kept
