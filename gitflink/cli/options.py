"""The flags several subcommands share, spelled and read the same way everywhere, and the one
function that turns them into `Settings` (flags over environment over defaults)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import shtab

from gitflink.settings import LOG_FORMATS, LOG_LEVELS, Settings


class UsageError(Exception):
    """A command line that cannot work (flags that contradict, a missing choice): exit 2."""


def add_logging_flags(parser: argparse.ArgumentParser) -> None:
    """On the root and on every subcommand, so `-v` (and `--config`) work before and after the
    subcommand.
    SUPPRESS: a flag not given leaves no attribute, so it never overrides the other place."""
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=argparse.SUPPRESS,
        help="DEBUG, INFO (default), WARNING, ERROR (GITFLINK_LOG_LEVEL)",
    )
    group.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=argparse.SUPPRESS,
        help="console (default) or json: one JSON object a line (GITFLINK_LOG_FORMAT)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="more log: -v DEBUG, -vv also every Flink REST call",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="warnings only"
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="settings from this YAML file (GITFLINK_CONFIG); environment and flags win; the "
        "agent reloads it when it changes",
    ).complete = shtab.FILE  # type: ignore[attr-defined]


def add_paths(parser: argparse.ArgumentParser, help: str) -> None:
    """Folders (or files) of the repository to read: as arguments or as repeated --path."""
    parser.add_argument("paths", nargs="*", metavar="PATH", help=help)
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        dest="more_paths",
        metavar="PATH",
        help="the same as a PATH argument (repeatable)",
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def paths_of(args: argparse.Namespace) -> tuple[str, ...]:
    return (*getattr(args, "paths", ()), *getattr(args, "more_paths", ()))


def add_repo(parser: argparse.ArgumentParser, *, required: bool, help: str) -> None:
    parser.add_argument(
        "--repo",
        required=required,
        help=f"{help}: a Git URL (https://, ssh://, git@host:path, file://) or a local path",
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def add_data_dir(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help=f"{help} (GITFLINK_DATA_DIR; ~/.local/share/gitflink)"
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir", type=Path, help="Git caches (GITFLINK_CACHE_DIR; ~/.cache/gitflink)"
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def add_status_branch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status-repo", help="where the status branch lives (GITFLINK_STATUS_REPO; --repo)"
    )
    parser.add_argument(
        "--status-branch", help="the status branch (GITFLINK_STATUS_BRANCH; gitflink/status)"
    )


def add_verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verify-signatures",
        metavar="GNUPGHOME",
        help="refuse tips not signed by a key of this keyring (GITFLINK_GIT_KEYRING)",
    ).complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def add_self_heal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-self-heal",
        action="store_true",
        help="only report jobs cancelled or rescaled outside Git, as drift, instead of "
        "bringing them back to what Git says (GITFLINK_SELF_HEAL=false)",
    )


def add_runtime(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=("local", "kubernetes"),
        help="where clusters run: local JVMs (default) or kubernetes (GITFLINK_RUNTIME)",
    )
    parser.add_argument(
        "--kube-context",
        metavar="NAME",
        help="kubeconfig context for --runtime kubernetes (GITFLINK_KUBE_CONTEXT)",
    )
    add_status_backend(parser)


def add_status_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status",
        choices=("cr",),
        help="cr: write status as the resources' custom resources in Kubernetes "
        "(GITFLINK_STATUS; default: status files, the status branch for the agent)",
    )


def add_output(parser: argparse.ArgumentParser, human: tuple[str, ...]) -> None:
    """`-o`: the command's own human formats (the first is the default), then json and yaml."""
    parser.add_argument(
        "-o", "--output", choices=(*human, "json", "yaml"), default=human[0], help="output format"
    )


# argparse destination -> Settings field, for flags that map one to one.
_FIELDS = {
    "repo": "repo",
    "branch": "branch",
    "status_repo": "status_repo",
    "status_branch": "status_branch",
    "interval_seconds": "interval_seconds",
    "drift_interval_seconds": "drift_interval_seconds",
    "listen": "listen",
    "data_dir": "data_dir",
    "cache_dir": "cache_dir",
    "runtime": "runtime",
    "kube_context": "kube_context",
    "status": "status",
}


def settings_from(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The environment's settings with every flag given on the command line on top."""
    settings = base or Settings.from_env(config=getattr(args, "config", None))
    changes: dict[str, Any] = {}
    for dest, name in _FIELDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "data_dir", None) is not None:
        changes["data_dir_given"] = True
    paths = paths_of(args)
    if paths:
        changes["paths"] = paths
    if getattr(args, "verify_signatures", None):
        changes["verify_keyring"] = Path(args.verify_signatures)
    if getattr(args, "exclude", None):
        changes["excludes"] = tuple(args.exclude)
    if getattr(args, "no_self_heal", False):
        changes["self_heal"] = False
    level = getattr(args, "log_level", None)
    if getattr(args, "quiet", False):
        level = "WARNING"
    verbose = getattr(args, "verbose", 0) or 0
    if verbose:
        level = "DEBUG"
        changes["log_requests"] = verbose > 1
    if level is not None:
        changes["log_level"] = level
    if getattr(args, "log_format", None):
        changes["log_format"] = args.log_format
    return dataclasses.replace(settings, **changes)
