"""`gitflink validate PATH...`: parse and validate manifests; exit 0 when valid, 1 on any error.

File names in messages are the paths as given on the command line. Warnings do not fail.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from gitflink import wiring
from gitflink.cli import options, output
from gitflink.core import ignoring
from gitflink.core.limits import DEFAULT_LIMITS, Limits, too_large
from gitflink.core.parsing import ParseResult, parse_files
from gitflink.core.plan_rendering import problem_json
from gitflink.core.validation import validate
from gitflink.core.validators import ENTRY_POINT_GROUP
from gitflink.model.manifests import IGNORE_FILE, MANIFEST_SUFFIXES
from gitflink.model.problems import Problem
from gitflink.runtime.validator_loading import load_validators


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check manifests: parse, validate, run custom validators",
        description="Parse and validate FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot "
        "manifests. Directories are searched recursively for *.yaml and *.yml.",
    )
    options.add_paths(parser, "files or directories")
    options.add_output(parser, ("text",))
    add_exclude_argument(parser)
    parser.add_argument(
        "--no-plugins",
        action="store_true",
        help=f"skip custom validators from the {ENTRY_POINT_GROUP!r} entry point group",
    )
    parser.set_defaults(handler=run)


def add_exclude_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help=f"leave out files matching this gitignore-style pattern, on top of {IGNORE_FILE} "
        "at the top of the tree (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    if not options.paths_of(args):
        raise options.UsageError("give the files or directories to validate (PATH...)")
    settings = options.settings_from(args)
    limits = wiring.limits(settings)
    files, missing = read_manifests(options.paths_of(args), args.exclude, limits)
    parsed = parse_files(files, limits)
    loaded = None if args.no_plugins else load_validators()
    problems = list(parsed.problems) + missing
    if loaded is not None:
        problems += [
            Problem(f"plugin {error}", 0, 0, "", "could not load") for error in loaded.errors
        ]
    validators = loaded.validators if loaded is not None else ()
    policy = settings.artifact_policy()
    problems += validate(parsed.desired, validators, broken=parsed.broken, artifacts=policy)
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    if args.output != "text":
        output.write_document(as_json(parsed, problems, len(files)), args.output)
    else:
        write_text(parsed, problems, len(files), sys.stdout)
    return 1 if any(p.is_error for p in problems) else 0


def read_manifests(
    paths: Sequence[str], excludes: Sequence[str] = (), limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, bytes], list[Problem]]:
    """{path as the user would write it: bytes}; a path that does not exist is a problem. In a
    directory, files its `.gitflinkignore` or `excludes` match are left out, and a symlink that
    leads outside the directory is refused unread (Argo CD's rule: CI runs this on untrusted
    pull requests). A file over the size limit is refused before it is read."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for path, problem in _walk(root, excludes):
                shown = os.path.join(given, path.relative_to(root))
                if problem is not None:
                    problems.append(Problem(shown, 0, 0, "", problem))
                else:
                    _read(path, shown, files, problems, limits)
        elif root.is_file():
            _read(root, given, files, problems, limits)
        else:
            problems.append(Problem(given, 0, 0, "", "no such file or directory"))
    return files, problems


def _walk(root: Path, excludes: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Manifest files under `root`, sorted, each with the reason it is refused (or None)."""
    top = root.resolve()
    ignore_file = root / IGNORE_FILE
    ignore = ignoring.rules(ignore_file.read_bytes() if ignore_file.is_file() else None, excludes)
    found: list[tuple[Path, str | None]] = []
    for directory, dirs, names in os.walk(root):  # never follows symlinked directories
        here = Path(directory)
        # As in git, nothing under an excluded directory is read (nor can be re-included).
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not ignore.excludes((here / d).relative_to(root).as_posix() + "/")
        )
        for name in [*dirs, *names]:
            path = here / name
            manifest = name in names and path.suffix in MANIFEST_SUFFIXES
            if name.startswith(".") or not (manifest or name in dirs):
                continue
            if ignore.excludes(path.relative_to(root).as_posix()):
                continue
            if path.is_symlink():
                refused = _outside(path, top, root)
                if refused is not None:
                    found.append((path, refused))
                    continue
                if name in dirs:
                    continue  # its files are read where they really are, inside the tree
            if manifest and path.is_file():
                found.append((path, None))
    return sorted(found)


def _outside(path: Path, top: Path, root: Path) -> str | None:
    """Why a symlink is refused: it leads outside the tree (or nowhere resolvable)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a loop
        return "symlink cannot be resolved; refused"
    return None if target.is_relative_to(top) else f"symlink to outside {root}; refused, not read"


def _read(
    path: Path, shown: str, files: dict[str, bytes], problems: list[Problem], limits: Limits
) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        problems.append(too_large(shown, size, limits))
    else:
        files[shown] = path.read_bytes()


def write_text(parsed: ParseResult, problems: Sequence[Problem], files: int, out: TextIO) -> None:
    for problem in problems:
        out.write(f"{problem}\n")
    for item in parsed.not_managed:
        out.write(f"not managed: {item}\n")
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    verdict = "invalid" if errors else "valid"
    out.write(
        f"{verdict}: {len(parsed.desired)} resources in {files} files, "
        f"{errors} errors, {warnings} warnings, {len(parsed.not_managed)} documents not managed\n"
    )


def as_json(parsed: ParseResult, problems: Sequence[Problem], files: int) -> dict[str, Any]:
    errors = sum(p.is_error for p in problems)
    return {
        "valid": errors == 0,
        "summary": {
            "files": files,
            "resources": len(parsed.desired),
            "errors": errors,
            "warnings": len(problems) - errors,
            "not_managed": len(parsed.not_managed),
        },
        "resources": [
            {
                "id": str(d.id),
                "kind": d.id.kind.value,
                "namespace": d.id.namespace,
                "name": d.id.name,
                "file": d.file,
                "line": d.line,
            }
            for d in parsed.desired
        ],
        "problems": [problem_json(p) for p in problems],
        "not_managed": [
            {
                "file": n.file,
                "document": n.index + 1,
                "kind": n.kind,
                "name": n.name,
                "reason": n.reason,
            }
            for n in parsed.not_managed
        ],
    }
