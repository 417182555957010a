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

from gitflink.cli import options, output
from gitflink.core.parsing import ParseResult, parse_files
from gitflink.core.plan_rendering import problem_json
from gitflink.core.validation import validate
from gitflink.core.validators import ENTRY_POINT_GROUP
from gitflink.model.problems import Problem
from gitflink.runtime.validator_loading import load_validators

SUFFIXES = (".yaml", ".yml")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check manifests: parse, validate, run custom validators",
        description="Parse and validate FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot "
        "manifests. Directories are searched recursively for *.yaml and *.yml.",
    )
    options.add_paths(parser, "files or directories")
    options.add_output(parser, ("text",))
    parser.add_argument(
        "--no-plugins",
        action="store_true",
        help=f"skip custom validators from the {ENTRY_POINT_GROUP!r} entry point group",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not options.paths_of(args):
        raise options.UsageError("give the files or directories to validate (PATH...)")
    files, missing = read_manifests(options.paths_of(args))
    parsed = parse_files(files)
    loaded = None if args.no_plugins else load_validators()
    problems = list(parsed.problems) + missing
    if loaded is not None:
        problems += [
            Problem(f"plugin {error}", 0, 0, "", "could not load") for error in loaded.errors
        ]
    validators = loaded.validators if loaded is not None else ()
    problems += validate(parsed.desired, validators, broken=parsed.broken)
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    if args.output != "text":
        output.write_document(as_json(parsed, problems, len(files)), args.output)
    else:
        write_text(parsed, problems, len(files), sys.stdout)
    return 1 if any(p.is_error for p in problems) else 0


def read_manifests(paths: Sequence[str]) -> tuple[dict[str, bytes], list[Problem]]:
    """{path as the user would write it: bytes}; a path that does not exist is a problem."""
    files: dict[str, bytes] = {}
    missing: list[Problem] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            found = sorted(
                p
                for p in root.rglob("*")
                if p.suffix in SUFFIXES and p.is_file() and not _hidden(p.relative_to(root))
            )
            for path in found:
                files[os.path.join(given, path.relative_to(root))] = path.read_bytes()
        elif root.is_file():
            files[given] = root.read_bytes()
        else:
            missing.append(Problem(given, 0, 0, "", "no such file or directory"))
    return files, missing


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


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
