"""`gitflink schema`: write the JSON Schemas and CRDs to `schemas/`, or check they are current."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitflink.core import schemas


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="write JSON Schemas and CRDs generated from the resource model",
        description="Write JSON Schemas (for editors) and CRD YAMLs generated from the model.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("schemas"), help="output directory (default: schemas)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files that differ from what would be generated",
    )
    parser.set_defaults(handler=run)


def _read_generated(out: Path) -> dict[str, str]:
    if not out.is_dir():
        return {}
    found = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    return {
        rel: path.read_text(encoding="utf-8")
        for rel, path in found.items()
        if schemas.is_generated_path(rel)
    }


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    expected = schemas.render_all()
    stale = schemas.stale_files(expected, _read_generated(out))
    if args.check:
        for rel, reason in stale:
            print(f"{out / rel}: {reason}")
        if stale:
            print(f"{out}/ is stale: run `gitflink schema --out {out}` and commit the result")
            return 1
        print(f"{out}/ is up to date ({len(expected)} files)")
        return 0
    for rel, reason in stale:
        target = out / rel
        if reason == "not generated":
            target.unlink()
            print(f"removed {target}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(expected[rel], encoding="utf-8")
        print(f"wrote {target}")
    if not stale:
        print(f"{out}/ is up to date ({len(expected)} files)")
    return 0
