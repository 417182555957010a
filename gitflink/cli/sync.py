"""`gitflink sync --repo URL|PATH [--branch NAME] [--path DIR]...`: one reconciliation pass of a
Git repository (remote or local) against Flink clusters on this machine. Prints one line per
resource; exit 0 when everything applied, else 1."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from gitflink import wiring
from gitflink.cli.validate import add_exclude_argument
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import Kind
from gitflink.ports import Ports
from gitflink.runtime import progress as progress_output
from gitflink.runtime.reading import ManifestReader
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.runtime.validator_loading import load_validators
from gitflink.settings import Settings

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="apply a Git repository to Flink clusters on this machine (one pass)",
        description="Plan and execute once: start clusters, deploy, upgrade (savepoint, "
        "last-state, stateless), suspend, resume and delete jobs so that what runs matches "
        "the repository's revision. Status goes to <data-dir>/status/. Credentials for "
        "remote repositories come from the environment (GITFLINK_GIT_TOKEN, "
        "GITFLINK_GIT_SSH_KEY, ...): see docs/git.md.",
    )
    parser.add_argument(
        "--repo",
        required=True,
        help="Git URL (https://, ssh://, git@host:path, file://) or a local repository path",
    )
    parser.add_argument(
        "--branch",
        "--ref",
        dest="branch",
        help="branch, tag or commit to apply (default: the remote's HEAD; HEAD for a local path)",
    )
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        dest="paths",
        metavar="DIR",
        help="only manifests under this repository folder (repeatable)",
    )
    parser.add_argument("--data-dir", type=Path, help="clusters and status (GITFLINK_DATA_DIR)")
    parser.add_argument("--cache-dir", type=Path, help="Git caches (GITFLINK_CACHE_DIR)")
    parser.add_argument("--verify-signatures", metavar="KEYRING", help="GNUPGHOME of trusted keys")
    parser.add_argument(
        "--no-prune",
        action="store_true",
        help="leave resources removed from Git running (reported as orphaned)",
    )
    parser.add_argument("-j", "--jobs", type=int, default=4, help="resources in parallel")
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    changes: dict[str, Any] = {
        "repo": args.repo,
        "branch": args.branch,
        "paths": tuple(args.paths),
        "excludes": tuple(args.exclude),
    }
    for name in ("data_dir", "cache_dir"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.verify_signatures:
        changes["verify_keyring"] = Path(args.verify_signatures)
    settings = dataclasses.replace(settings, **changes)
    try:
        source = wiring.source_for(settings, args.repo, args.branch)
        ports = wiring.local_ports(settings, source)
    except GitflinkError as error:
        print(f"gitflink sync: {error}", file=sys.stderr)
        return EXIT_FAILED
    reader = wiring.manifest_reader(settings)
    result = sync(ports, args.paths, prune=not args.no_prune, workers=args.jobs, reader=reader)
    print_result(result, ports, sys.stdout)
    return EXIT_OK if result.ok else EXIT_FAILED


def sync(
    ports: Ports,
    paths: Sequence[str],
    *,
    prune: bool = True,
    workers: int = 4,
    reader: ManifestReader | None = None,
) -> PassResult:
    """One pass with live progress on stderr (rich on a terminal, plain lines otherwise). Pass
    the same `reader` to several calls so unchanged files are not parsed again."""
    loaded = load_validators()
    display = progress_output.for_stream(sys.stderr)
    config = PassConfig(
        roots=tuple(paths),
        prune=prune,
        max_workers=workers,
        progress=display,
        validators=loaded.validators,
        reader=reader or ManifestReader(),
    )
    live = display if isinstance(display, progress_output.LiveProgress) else None
    with live or contextlib.nullcontext():
        return run_pass(ports, config)


def print_result(result: PassResult, ports: Ports, out: TextIO) -> None:
    if result.error:
        out.write(f"error: {result.error}\n")
        return
    revision = result.revision.short if result.revision else "?"
    out.write(f"synced revision {revision}\n")
    for problem in result.problems:
        out.write(f"  {problem}\n")
    for document in result.corrupt:
        if document.resource is None:  # the others are named by their resource's FAIL line
            out.write(f"  FAIL {document}\n")
    for execution in result.executions:
        mark = "ok  " if execution.ok else "FAIL"
        kind = execution.resource.kind.value
        out.write(f"  {mark} {kind} {execution.resource.short}: {execution.summary}\n")
    urls = sorted(
        (h.resource.short, h.rest_url)
        for h in ports.runtime.list_clusters()
        if h.resource.kind is Kind.FLINK_DEPLOYMENT
    )
    for name, url in urls:
        out.write(f"  Flink Web UI {name}: {url}\n")
