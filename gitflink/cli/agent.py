"""`gitflink agent`: follow a Git branch, reconcile on an interval and on webhooks, write status
back as commits on the status branch. SIGTERM finishes the pass in flight, pushes status, exits."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from gitflink import wiring
from gitflink.agent.loop import Loop
from gitflink.agent.webhook import make_server, serve_in_background
from gitflink.cli.status import add_git_arguments, settings_from
from gitflink.cli.validate import add_exclude_argument
from gitflink.model.errors import GitflinkError
from gitflink.runtime import reconciler
from gitflink.runtime.settling import Settled

log = logging.getLogger("gitflink.agent")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("agent", help="reconcile continuously from a Git branch")
    add_git_arguments(parser)
    parser.add_argument("--branch", help="branch, tag or commit to follow (default: remote HEAD)")
    parser.add_argument("--path", action="append", help="folder with manifests (repeatable)")
    parser.add_argument("--interval", dest="interval_seconds", type=float, help="seconds (30)")
    parser.add_argument(
        "--drift-interval",
        dest="drift_interval_seconds",
        type=float,
        help="check running jobs against Git at least this often, in seconds, even when Git "
        "has not moved (60); a pass that finds Git unchanged in between stops after fetching",
    )
    parser.add_argument("--listen", help="HOST:PORT for webhook, /healthz, /metrics (0.0.0.0:8080)")
    parser.add_argument("--verify-signatures", metavar="KEYRING", help="GNUPGHOME of trusted keys")
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = settings_from(args)
    try:
        source = wiring.remote_repository(settings, settings.repo or ".", settings.branch)
        store = wiring.git_status_store(settings)
    except GitflinkError as error:
        print(f"gitflink agent: {error}", file=sys.stderr)
        return 1
    ports = wiring.local_ports(settings, source, status=store)
    config = reconciler.PassConfig(
        roots=settings.paths,
        settled=Settled(drift_interval=settings.drift_interval_seconds),
        reader=wiring.manifest_reader(settings),
    )

    def one_pass() -> reconciler.PassResult:
        result = reconciler.run_pass(ports, config)
        revision = result.revision.short if result.revision else "-"
        if not result.observed:
            log.info("pass @ %s: Git unchanged and everything converged", revision)
            return result
        problems = sum(1 for p in result.problems if p.is_error)
        failed = sum(1 for e in result.executions if not e.ok)
        log.info(
            "pass @ %s: %d executed, %d failed, %d problems%s",
            revision,
            len(result.executions),
            failed,
            problems,
            f", error: {result.error}" if result.error else "",
        )
        return result

    loop = Loop(one_pass, interval=settings.interval_seconds, after_pass=store.flush)
    host, _, port = settings.listen.rpartition(":")
    server = make_server((host or "0.0.0.0", int(port)), loop, settings.webhook_secret)
    serve_in_background(server)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.stop())
    log.info("following %s; listening on %s", source.url, settings.listen)
    try:
        loop.run()
    finally:
        server.shutdown()
        server.server_close()
    return 0
