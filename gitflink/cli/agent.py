"""`gitflink agent`: follow a Git branch, reconcile on an interval and on webhooks, write status
back as commits on the status branch. SIGTERM finishes the pass in flight, pushes status, exits.
A remote that cannot be reached keeps the agent up: every pass retries it."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from gitflink import wiring
from gitflink.agent.loop import Loop
from gitflink.agent.metrics import Metrics
from gitflink.agent.pass_log import log_pass
from gitflink.agent.reloading import ConfigWatch
from gitflink.agent.webhook import make_server, serve_in_background
from gitflink.cli import logs, options, output
from gitflink.cli.validate import add_exclude_argument
from gitflink.model.errors import ClusterError, NotLeader
from gitflink.ports import Ports, StatusStore
from gitflink.runtime import reconciler
from gitflink.runtime.election import Elector, Role
from gitflink.runtime.settling import Settled
from gitflink.settings import Settings

log = logging.getLogger("gitflink.agent")


@runtime_checkable
class _Refreshing(Protocol):
    """A store other writers write too (the status branch, custom resources): True when one
    changed it since the agent last read it, a request among what it tells at least."""

    def refresh(self) -> bool: ...


def listen_address(text: str) -> str:
    """HOST:PORT (HOST may be empty for every interface), checked before anything starts."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 0.0.0.0:8080)")
    return f"{host or '0.0.0.0'}:{port}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "agent",
        help="reconcile continuously from a Git branch",
        description="Follow --branch of --repo, reconcile every --interval seconds and on "
        "webhooks; status goes to the status branch. Flink clusters run on this machine, "
        "recorded under the data dir.",
    )
    options.add_repo(
        parser, required=False, help="the repository to follow (or `repo:` in --config)"
    )
    parser.add_argument("--branch", help="branch, tag or commit to follow (default: remote HEAD)")
    options.add_paths(parser, "only manifests under these repository folders")
    options.add_status_branch(parser)
    options.add_data_dir(parser, "local Flink clusters")
    options.add_cache_dir(parser)
    options.add_runtime(parser)
    parser.add_argument("--interval", dest="interval_seconds", type=float, help="seconds (30)")
    parser.add_argument(
        "--drift-interval",
        dest="drift_interval_seconds",
        type=float,
        help="check running jobs against Git at least this often, in seconds, even when Git "
        "has not moved (60); a pass that finds Git unchanged in between stops after fetching",
    )
    parser.add_argument(
        "--allow-mass-prune",
        action="store_true",
        help="allow one revision to delete more than half of the deployed resources, or all "
        "of them (GITFLINK_ALLOW_MASS_PRUNE); refused by default",
    )
    parser.add_argument(
        "--listen",
        type=listen_address,
        help="HOST:PORT for webhook, /healthz, /metrics (GITFLINK_LISTEN; 0.0.0.0:8080)",
    )
    options.add_verify(parser)
    options.add_self_heal(parser)
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


class _Reconciling:
    """The agent's pass. Ports are built on the first pass that can reach the status branch, so
    an unreachable remote at start is retried like any later outage instead of ending the agent."""

    def __init__(
        self,
        settings: Settings,
        *,
        allow_mass_prune: bool = False,
        metrics: Metrics | None = None,
        reload: Callable[[], Settings] | None = None,
        elector: Elector | None = None,
    ) -> None:
        self.settings = settings
        self.elector = elector
        self.metrics = metrics or Metrics()
        self.allow_mass_prune = allow_mass_prune
        self.watch = ConfigWatch(settings, reload or (lambda: settings))
        self.source = wiring.remote_repository(settings, settings.repo or ".", settings.branch)
        loaded = wiring.validators()
        self.config = reconciler.PassConfig(
            roots=settings.paths,
            prune_guard=wiring.prune_guard(settings, allow=allow_mass_prune),
            validators=loaded.validators,
            plugin_errors=loaded.errors,
            settled=Settled(drift_interval=settings.drift_interval_seconds),
            reader=wiring.manifest_reader(settings),
            source_id=wiring.source_id(settings),
            healing=wiring.healing(settings),
            stable_after=settings.stability_window_seconds,
            notifier=wiring.notifier(settings, self.metrics.meter, fence=elector),
            flink_defaults=settings.default_flink_configuration,
        )
        self.store: StatusStore | None = None
        self.ports: Ports | None = None

    def __call__(self) -> reconciler.PassResult:
        """One pass; the loop reads its result for /readyz (corrupt status documents)."""
        reloaded = self.watch.changed()
        if reloaded is not None:
            self.reconfigure(reloaded)
        if self.elector is not None:
            self._standing_by_unless_leading(self.elector)
        if self.ports is None:
            meter = self.metrics.meter
            # Raises if unreachable. Built only while leading: it pushes what a crash left.
            self.store = wiring.agent_status_store(self.settings, meter)
            self.ports = wiring.ports(
                self.settings, self.source, status=self.store, meter=meter, fence=self.elector
            )
        elif isinstance(self.store, _Refreshing) and self.store.refresh():
            # Another writer asked for something (`gitflink rollback`, `gitflink savepoint`):
            # plan, even if Git has not moved since a converged pass.
            self.config.settled.forget()
        try:
            result = reconciler.run_pass(self.ports, self.config)
        except NotLeader as error:
            log.warning("pass stopped, nothing more written: %s", error)
            self.drop()
            raise
        log_pass(result)
        return result

    def _standing_by_unless_leading(self, elector: Elector) -> None:
        if not elector.leading:
            self.drop()
            raise NotLeader(f"standing by: {elector.identity} does not hold the lease")

    def drop(self) -> None:
        """Forget the ports of a term as leader: the next term starts from the remote's state."""
        if isinstance(self.store, wiring.StatusBranch):
            self.store.discard()  # custom resources hold only what was written while leading
        self.store, self.ports = None, None

    def reconfigure(self, settings: Settings) -> None:
        """Take on reloaded settings (agent.reloading.RELOADABLE) from the next pass on. The
        drift check is due at once, so changed defaults reach running jobs now."""
        if (settings.log_level, settings.log_format) != (
            self.settings.log_level,
            self.settings.log_format,
        ):
            logs.configure(settings)
        self.settings = settings
        self.config = dataclasses.replace(
            self.config,
            flink_defaults=settings.default_flink_configuration,
            healing=wiring.healing(settings),
            prune_guard=wiring.prune_guard(settings, allow=self.allow_mass_prune),
            stable_after=settings.stability_window_seconds,
            settled=Settled(drift_interval=settings.drift_interval_seconds),
        )

    def flush(self) -> None:
        if not isinstance(self.store, wiring.StatusBranch):
            return  # custom resources are written as the pass goes
        try:
            if self.elector is not None:
                self.elector.check("push status")
            self.store.flush()
        except NotLeader as error:
            log.warning("status not pushed: %s", error)
            self.drop()


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    if not settings.repo:
        raise options.UsageError("the repository to follow: --repo, or `repo:` in --config")
    try:
        listen_address(settings.listen)  # GITFLINK_LISTEN is not checked by the parser
    except argparse.ArgumentTypeError as error:
        raise options.UsageError(f"GITFLINK_LISTEN: {error}") from None
    metrics = Metrics()
    woken: list[Loop] = []  # the loop, once built: a new leader passes at once
    try:
        elector = (
            wiring.elector(settings, metrics.meter, lambda role: _on_role(role, woken))
            if settings.leader_election
            else None
        )
    except ClusterError as error:
        output.error("agent", str(error))
        return 1
    reconciling = _Reconciling(
        settings,
        allow_mass_prune=args.allow_mass_prune,
        metrics=metrics,
        reload=lambda: options.settings_from(args),
        elector=elector,
    )
    loop = Loop(
        reconciling,
        interval=settings.interval_seconds,
        after_pass=reconciling.flush,
        metrics=metrics,
        elector=elector,
    )
    woken.append(loop)
    host, _, port = settings.listen.rpartition(":")
    try:
        server = make_server((host, int(port)), loop, settings.webhook_secret)
    except OSError as error:
        output.error("agent", f"cannot listen on {settings.listen}: {error.strerror or error}")
        return 1
    serve_in_background(server)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.stop())
    bound = "{}:{}".format(*server.server_address[:2])
    log.info("following %s; listening on %s", reconciling.source.url, bound)
    if elector is not None:
        elector.start()
    try:
        loop.run()
    finally:
        if elector is not None:
            elector.release()  # after the last pass: the next leader need not wait
        server.shutdown()
        server.server_close()
    return 0


def _on_role(role: Role, loop: list[Loop]) -> None:
    if role is Role.LEADING and loop:
        loop[0].wake("leader")
