"""All configuration, read once at the edge (flags + environment). Nothing else reads os.environ.

Secrets are held as `Secret` so that printing settings never shows them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitflink import settings_file
from gitflink.model.artifacts import DEFAULT_SCHEMES, ArtifactPolicy

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("console", "json")
COMMIT_STATUS_PROVIDERS = ("github", "gitlab")


class Secret:
    """A credential: usable through `.reveal()`, shown as '******' everywhere else."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('******')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_data_dir(env: Mapping[str, str]) -> Path:
    if "GITFLINK_DATA_DIR" in env:
        return Path(env["GITFLINK_DATA_DIR"])
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "/tmp")) / ".local" / "share")
    return Path(base) / "gitflink"


def default_cache_dir(env: Mapping[str, str]) -> Path:
    if "GITFLINK_CACHE_DIR" in env:
        return Path(env["GITFLINK_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "/tmp")) / ".cache")
    return Path(base) / "gitflink"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Built by `from_env` plus command-line overrides."""

    data_dir: Path
    cache_dir: Path
    flink_home: Path | None = None  # FLINK_HOME: use this Flink instead of the PyPI installs
    repo: str | None = None
    branch: str | None = None
    paths: tuple[str, ...] = ()
    git_token: Secret | None = None
    git_username: str | None = None
    git_password: Secret | None = None
    git_ssh_key: Path | None = None
    interval_seconds: float = 30.0
    # Running jobs are checked against Git at least this often even when Git has not moved.
    drift_interval_seconds: float = 60.0
    webhook_secret: Secret | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    # Git loop (agent, status branch): see docs/git.md.
    git_known_hosts: Path | None = None
    verify_keyring: Path | None = None  # a GNUPGHOME whose keys are trusted to sign commits
    status_repo: str | None = None  # defaults to `repo`
    status_branch: str = "gitflink/status"
    git_author_name: str = "gitflink"
    git_author_email: str = "gitflink@localhost"
    listen: str = "0.0.0.0:8080"  # webhook, /healthz, /readyz and /metrics
    # Manifests (docs/security.md): gitignore-style patterns left out, on top of the tree's
    # .gitflinkignore; files and documents refused before parsing when larger than these.
    excludes: tuple[str, ...] = ()
    max_manifest_bytes: int = 1_572_864  # the Kubernetes API server's limit for one object
    max_manifest_nodes: int = 200_000  # per YAML document, aliases expanded
    # A revision that deletes more than this share of the deployed resources (or all of them)
    # is refused unless allowed (docs/guardrails.md).
    allow_mass_prune: bool = False
    max_prune_share: float = 0.5
    # Recovery (docs/recovery.md): converge what was changed outside Git (else only report it),
    # restart jobs Flink gave up on (kubernetes.operator.job.restart.failed's default), back off
    # between restarts, and count a recovered job stable after it ran for a window.
    self_heal: bool = True
    restart_failed: bool = False
    restart_backoff_seconds: float = 10.0
    restart_backoff_max_seconds: float = 300.0
    stability_window_seconds: float = 60.0
    # How long a change may take to run with every task before it counts as failed (the
    # default of kubernetes.operator.deployment.readiness.timeout; docs/rollback.md).
    readiness_timeout_seconds: float = 300.0
    # After a rollback, push a branch gitflink/revert-<name>-<sha> that reverts the change.
    revert_branches: bool = False
    # Notifications (docs/observability.md#listeners): a JSON webhook, signed when a secret is
    # set (its URL is held as a secret: chat webhooks carry theirs in the path), and commit
    # statuses on GitHub or GitLab for the applied revision.
    notify_webhook_url: Secret | None = None
    notify_webhook_secret: Secret | None = None
    commit_status: str | None = None  # github or gitlab
    commit_status_token: Secret | None = None
    commit_status_api: str | None = None  # default: api.github.com, gitlab.com/api/v4
    commit_status_repository: str | None = None  # owner/name; default: the path of `repo`
    listener_timeout_seconds: float = 10.0
    # Each Flink REST call (a black-holed JobManager fails the step after this long).
    flink_rest_timeout_seconds: float = 10.0
    # Options for listener plugins, by entry point name (the config file's `listenerOptions`).
    listener_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    log_level: str = "INFO"
    log_format: str = "console"  # or "json": one object a line, for log collectors
    log_requests: bool = False  # every Flink REST call (httpx at INFO); -vv
    data_dir_given: bool = False  # GITFLINK_DATA_DIR or --data-dir named it (not the default)
    # Session-job artifacts gitflink fetches and uploads (docs/security.md): the agent decides,
    # never a resource's flinkConfiguration.
    artifact_schemes: frozenset[str] = DEFAULT_SCHEMES
    artifact_restricted_hosts: bool = True  # refuse loopback, link-local and private hosts
    artifact_max_bytes: int = 256 * 1024 * 1024
    artifact_timeout_seconds: float = 60.0

    def artifact_policy(self) -> ArtifactPolicy:
        return ArtifactPolicy(self.artifact_schemes, self.artifact_restricted_hosts)

    # Where clusters run: "local" JVMs, or "kubernetes" (docs/kubernetes.md).
    runtime: str = "local"
    kube_context: str | None = None  # a kubeconfig context; none: in-cluster, else the current
    # The namespaces gitflink may run clusters in (the Helm chart's watchNamespaces); empty: all.
    namespaces: tuple[str, ...] = ()
    # Flink REST of a cluster on Kubernetes: {name}, {namespace} and {pod_ip} are filled in.
    flink_rest_url: str = "http://{name}-rest.{namespace}.svc:8081"
    # Leader election (docs/agent.md#leader-election): one agent of several acts, on a Lease
    # in `lease_namespace` (default: the pod's own namespace, else "default").
    leader_election: bool = False
    lease_name: str = "gitflink"
    lease_namespace: str | None = None
    # "cr": status as custom resources (docs/kubernetes.md#cr-status-mode); None: status files
    # (sync) or the status branch (agent).
    status: str | None = None
    # The config file these settings were read with (`--config`, GITFLINK_CONFIG), and its
    # default Flink configuration, laid under every FlinkDeployment's own.
    config_file: Path | None = None
    default_flink_configuration: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, config: Path | None = None) -> Settings:
        """Environment over the config file (`config`, else GITFLINK_CONFIG) over defaults."""
        env = os.environ if env is None else env
        path = config or _path(env.get("GITFLINK_CONFIG"))
        from_env = cls._environment(env)
        if path is None:
            return from_env
        try:
            values = settings_file.read(path)
        except settings_file.ConfigFileError as error:
            raise SettingsError(f"config file {error}") from None
        kept = settings_file.under_environment(values, env)
        return dataclasses.replace(from_env, config_file=path, **kept)

    @classmethod
    def _environment(cls, env: Mapping[str, str]) -> Settings:

        def secret(name: str) -> Secret | None:
            value = env.get(name)
            if value is None and env.get(f"{name}_FILE"):
                value = Path(env[f"{name}_FILE"]).read_text().strip()
            return Secret(value) if value else None

        def path(name: str) -> Path | None:
            return Path(env[name]) if env.get(name) else None

        return cls(
            data_dir=default_data_dir(env),
            data_dir_given="GITFLINK_DATA_DIR" in env,
            cache_dir=default_cache_dir(env),
            flink_home=_path(env.get("FLINK_HOME")),
            git_token=secret("GITFLINK_GIT_TOKEN"),
            git_username=env.get("GITFLINK_GIT_USERNAME"),
            git_password=secret("GITFLINK_GIT_PASSWORD"),
            git_ssh_key=_path(env.get("GITFLINK_GIT_SSH_KEY")),
            webhook_secret=secret("GITFLINK_WEBHOOK_SECRET"),
            git_known_hosts=path("GITFLINK_GIT_KNOWN_HOSTS"),
            verify_keyring=path("GITFLINK_GIT_KEYRING"),
            status_repo=env.get("GITFLINK_STATUS_REPO") or None,
            status_branch=env.get("GITFLINK_STATUS_BRANCH") or "gitflink/status",
            git_author_name=env.get("GITFLINK_GIT_AUTHOR_NAME") or "gitflink",
            git_author_email=env.get("GITFLINK_GIT_AUTHOR_EMAIL") or "gitflink@localhost",
            listen=env.get("GITFLINK_LISTEN") or "0.0.0.0:8080",
            allow_mass_prune=_flag(env, "GITFLINK_ALLOW_MASS_PRUNE"),
            max_prune_share=_share(env, "GITFLINK_MAX_PRUNE_SHARE", 0.5),
            self_heal=_flag(env, "GITFLINK_SELF_HEAL", default=True),
            restart_failed=_flag(env, "GITFLINK_RESTART_FAILED"),
            restart_backoff_seconds=_seconds(env, "GITFLINK_RESTART_BACKOFF", 10.0),
            restart_backoff_max_seconds=_seconds(env, "GITFLINK_RESTART_BACKOFF_MAX", 300.0),
            stability_window_seconds=_seconds(env, "GITFLINK_STABILITY_WINDOW", 60.0),
            readiness_timeout_seconds=_seconds(env, "GITFLINK_READINESS_TIMEOUT", 300.0),
            revert_branches=_flag(env, "GITFLINK_REVERT_BRANCHES"),
            notify_webhook_url=secret("GITFLINK_NOTIFY_WEBHOOK_URL"),
            notify_webhook_secret=secret("GITFLINK_NOTIFY_WEBHOOK_SECRET"),
            commit_status=_optional_choice(env, "GITFLINK_COMMIT_STATUS", COMMIT_STATUS_PROVIDERS),
            commit_status_token=secret("GITFLINK_COMMIT_STATUS_TOKEN"),
            commit_status_api=env.get("GITFLINK_COMMIT_STATUS_API") or None,
            commit_status_repository=env.get("GITFLINK_COMMIT_STATUS_REPOSITORY") or None,
            listener_timeout_seconds=_seconds(env, "GITFLINK_LISTENER_TIMEOUT", 10.0),
            flink_rest_timeout_seconds=_seconds(env, "GITFLINK_FLINK_REST_TIMEOUT", 10.0),
            log_level=_choice(env, "GITFLINK_LOG_LEVEL", LOG_LEVELS, "INFO", str.upper),
            log_format=_choice(env, "GITFLINK_LOG_FORMAT", LOG_FORMATS, "console", str.lower),
            max_manifest_bytes=_count(env, "GITFLINK_MAX_MANIFEST_BYTES", 1_572_864),
            max_manifest_nodes=_count(env, "GITFLINK_MAX_MANIFEST_NODES", 200_000),
            artifact_schemes=_schemes(env.get("GITFLINK_ARTIFACT_SCHEMES")),
            artifact_restricted_hosts=not _flag(env, "GITFLINK_ARTIFACT_ALLOW_RESTRICTED_HOSTS"),
            artifact_max_bytes=_count(env, "GITFLINK_ARTIFACT_MAX_BYTES", 256 * 1024 * 1024),
            artifact_timeout_seconds=float(_count(env, "GITFLINK_ARTIFACT_TIMEOUT_SECONDS", 60)),
            runtime=_choice(env, "GITFLINK_RUNTIME", RUNTIMES, "local", str.lower),
            kube_context=env.get("GITFLINK_KUBE_CONTEXT") or None,
            namespaces=_names(env.get("GITFLINK_NAMESPACES")),
            flink_rest_url=env.get("GITFLINK_FLINK_REST_URL")
            or "http://{name}-rest.{namespace}.svc:8081",
            leader_election=_flag(env, "GITFLINK_LEADER_ELECTION"),
            lease_name=env.get("GITFLINK_LEASE_NAME") or "gitflink",
            lease_namespace=env.get("GITFLINK_LEASE_NAMESPACE") or None,
            status=_optional_choice(env, "GITFLINK_STATUS", STATUS_BACKENDS),
        )


RUNTIMES = ("local", "kubernetes")
STATUS_BACKENDS = ("cr",)
_TRUE, _FALSE = frozenset({"1", "true", "yes"}), frozenset({"", "0", "false", "no"})


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        raise SettingsError(f"{name}={env[name]!r}: expected true or false")
    return value in _TRUE


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, lambda v: v >= 0, "a number of seconds, 0 or more")


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, lambda v: 0.0 <= v <= 1.0, "a share between 0 and 1")


def _number(
    env: Mapping[str, str], name: str, default: float, ok: Callable[[float], bool], expected: str
) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not ok(value):  # NaN passes no check
        raise SettingsError(f"{name}={raw!r}: expected {expected}")
    return value


def _schemes(value: str | None) -> frozenset[str]:
    """`https,file`: the schemes artifacts may be fetched with (`local` is always allowed)."""
    if not value:
        return DEFAULT_SCHEMES
    schemes = frozenset(part.strip().lower() for part in value.split(",") if part.strip())
    unknown = schemes - {"https", "http", "file"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise SettingsError(f"GITFLINK_ARTIFACT_SCHEMES: cannot fetch {names} (https, http, file)")
    return schemes


def _names(value: str | None) -> tuple[str, ...]:
    """`a, b`: comma-separated names, blanks dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


class SettingsError(ValueError):
    """An environment variable with a value gitflink cannot use."""


def _choice(
    env: Mapping[str, str],
    name: str,
    allowed: tuple[str, ...],
    default: str,
    norm: Callable[[str], str],
) -> str:
    value = norm(env.get(name) or default)
    if value not in allowed:
        raise SettingsError(f"{name}={env[name]!r}: expected one of {', '.join(allowed)}")
    return value


def _optional_choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = (env.get(name) or "").strip().lower()
    if value and value not in allowed:
        raise SettingsError(f"{name}={env[name]!r}: expected one of {', '.join(allowed)}")
    return value or None


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise SettingsError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)
