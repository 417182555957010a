"""`gitflink status [-o table|json|yaml]`: every resource's status, read from the status branch."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from gitflink import wiring
from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import corrupt_of
from gitflink.settings import Settings


def add_git_arguments(parser: argparse.ArgumentParser, *, repo_required: bool = True) -> None:
    parser.add_argument("--repo", required=repo_required, help="Git URL or local path")
    parser.add_argument("--status-repo", help="where the status branch lives (default: --repo)")
    parser.add_argument("--status-branch", help="default: gitflink/status")
    parser.add_argument("--cache-dir", help="where Git caches live (default: XDG cache)")


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {"repo": args.repo}
    names = ("status_repo", "status_branch", "branch", "interval_seconds", "listen")
    for name in (*names, "drift_interval_seconds"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "path", None):
        changes["paths"] = tuple(args.path)
    if getattr(args, "exclude", None):
        changes["excludes"] = tuple(args.exclude)
    if getattr(args, "cache_dir", None):
        changes["cache_dir"] = Path(args.cache_dir)
    if getattr(args, "verify_signatures", None):
        changes["verify_keyring"] = Path(args.verify_signatures)
    return dataclasses.replace(settings, **changes)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show resource status from the status branch (or the embedded runtime's files)",
    )
    add_git_arguments(parser, repo_required=False)
    parser.add_argument(
        "--data-dir", help="read the embedded runtime's status files instead (`gitflink sync`)"
    )
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.set_defaults(handler=run)


def _age(status: ResourceStatus, now: datetime) -> str:
    when = status.history[0].applied_at if status.history else None
    when = when or status.reconciliation.reconciled_at
    if when is None:
        return "-"
    seconds = int((now - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def rows(statuses: Mapping[ResourceId, ResourceStatus], now: datetime) -> list[dict[str, str]]:
    out = []
    for rid, status in sorted(statuses.items()):
        savepoint = status.job_status.last_savepoint
        out.append(
            {
                "name": rid.short,
                "kind": rid.kind.value,
                "lifecycle": status.lifecycle_state.value,
                "job": status.job_status.state or "-",
                "applied": (status.applied_revision or "-")[:7],
                "savepoint": savepoint.path if savepoint else "-",
                "age": _age(status, now),
                "error": status.error or "",
            }
        )
    return out


def render_table(table: list[dict[str, str]]) -> str:
    headers = ["name", "kind", "lifecycle", "job", "applied", "savepoint", "age"]
    widths = {h: max([len(h), *(len(r[h]) for r in table)]) for h in headers}
    lines = ["  ".join(h.upper().ljust(widths[h]) for h in headers).rstrip()]
    lines += ["  ".join(r[h].ljust(widths[h]) for h in headers).rstrip() for r in table]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if (args.repo is None) == (args.data_dir is None):
        print("gitflink status: give --repo (status branch) or --data-dir", file=sys.stderr)
        return 2
    try:
        if args.data_dir is not None:
            statuses = FileStatusStore(Path(args.data_dir)).load_all()
        else:
            statuses = wiring.git_status_store(settings_from(args)).load_all()
    except GitflinkError as error:
        print(f"gitflink status: {error}", file=sys.stderr)
        return 1
    for document in corrupt_of(statuses):
        print(f"gitflink status: {document}", file=sys.stderr)
    failed = 1 if corrupt_of(statuses) else 0
    if args.output == "table":
        sys.stdout.write(render_table(rows(statuses, datetime.now(UTC))))
        return failed
    documents = {
        str(rid): status.model_dump(mode="json", by_alias=True, exclude_none=True)
        for rid, status in sorted(statuses.items())
    }
    if args.output == "json":
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
    else:
        stream = io.StringIO()
        YAML(typ="safe", pure=True).dump(documents, stream)
        sys.stdout.write(stream.getvalue())
    return failed
