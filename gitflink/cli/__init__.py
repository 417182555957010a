"""The `gitflink` command: parse arguments, configure logging once, call into the program, return
an exit code (0 ok, 1 failed, 2 usage, 3 plan --fail-on matched). Errors go to stderr, never as
a traceback for what a user can cause: a closed pipe, Ctrl-C, a bad environment variable.

Each subcommand lives in its own module exposing `register(subparsers)`; the handler it sets
returns the process exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from gitflink import __version__
from gitflink.cli import (
    agent,
    completion,
    demo,
    history,
    local,
    logs,
    options,
    output,
    plan,
    render,
    rollback,
    savepoint,
    schema,
    status,
    sync,
    validate,
)
from gitflink.model.errors import GitflinkError
from gitflink.settings import SettingsError

COMMANDS = (
    validate,
    plan,
    render,
    sync,
    agent,
    status,
    history,
    savepoint,
    rollback,
    schema,
    local,
    demo,
    completion,
)
EXIT_USAGE, EXIT_PIPE, EXIT_INTERRUPTED = 2, 141, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitflink", description="GitOps control plane for Apache Flink."
    )
    parser.add_argument("--version", action="version", version=f"gitflink {__version__}")
    options.add_logging_flags(parser)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    for subcommand in subparsers.choices.values():
        options.add_logging_flags(subcommand)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    try:
        logs.configure(options.settings_from(args))
        code: int = args.handler(args)
    except options.UsageError as error:
        output.error(args.command, f"error: {error}")
        print(f"Run 'gitflink {args.command} --help' for usage.", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:
        output.error(args.command, error)
        return EXIT_USAGE
    except GitflinkError as error:
        output.error(args.command, error)
        return 1
    except BrokenPipeError:
        # The reader (`| head`) went away: say nothing more, as other Unix tools do.
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): nothing will be flushed to a dead pipe


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
