"""The `gitflink` command: parse arguments, call into the program, return an exit code.

Each subcommand lives in its own module exposing `register(subparsers)`; the handler it sets
returns the process exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gitflink import __version__
from gitflink.cli import agent, demo, local, plan, schema, status, sync, validate

COMMANDS = (validate, plan, sync, agent, status, schema, local, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitflink", description="GitOps control plane for Apache Flink."
    )
    parser.add_argument("--version", action="version", version=f"gitflink {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
