"""Composition root: Settings -> adapters -> Ports. With the CLI, the only package that imports
adapters, so everything below it sees ports only. One module per concern: `flink` (local
runtime, REST clients, jar downloads), `git`, `kubernetes`, `listeners`; this one builds the
Ports and the stores, and names every part for callers (`wiring.X`)."""

from __future__ import annotations

import dataclasses

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.core.limits import Limits
from gitflink.core.planning import Healing
from gitflink.core.planning.removal import PruneGuard
from gitflink.ports import NULL_METER, Fence, GitSource, Meter, Ports, StatusStore
from gitflink.runtime.fencing import fenced
from gitflink.runtime.reading import ManifestReader
from gitflink.runtime.validator_loading import LoadedValidators, load_validators
from gitflink.settings import Settings
from gitflink.wiring.flink import RestClients, artifact_fetcher, local_runtime, owner_of
from gitflink.wiring.git import (
    RemoteRevisions,
    Revisions,
    StatusBranch,
    git_credentials,
    git_status_store,
    local_repository,
    remote_repository,
    repository_path,
    revert_branches,
    revisions,
    source_for,
    source_id,
)
from gitflink.wiring.kubernetes import (
    cr_status_store,
    elector,
    instance_of,
    kube_client,
    kubernetes_runtime,
    kubernetes_runtime_for,
    render_cluster,
)
from gitflink.wiring.listeners import notifier

__all__ = [
    "RemoteRevisions",
    "RestClients",
    "Revisions",
    "StatusBranch",
    "agent_status_store",
    "artifact_fetcher",
    "cr_status_store",
    "elector",
    "file_status_store",
    "git_credentials",
    "git_status_store",
    "healing",
    "instance_of",
    "kube_client",
    "kubernetes_runtime",
    "kubernetes_runtime_for",
    "limits",
    "local_ports",
    "local_repository",
    "local_runtime",
    "manifest_reader",
    "notifier",
    "owner_of",
    "ports",
    "prune_guard",
    "remote_repository",
    "render_cluster",
    "repository_path",
    "revert_branches",
    "revisions",
    "source_for",
    "source_id",
    "status_store",
    "validators",
]


def file_status_store(settings: Settings) -> FileStatusStore:
    return FileStatusStore(settings.data_dir)


def status_store(settings: Settings) -> StatusStore:
    """The store `sync` writes: custom resources with `--status cr`, else status files."""
    return cr_status_store(settings) if settings.status == "cr" else file_status_store(settings)


def agent_status_store(settings: Settings, meter: Meter = NULL_METER) -> StatusStore:
    """The store the agent writes: custom resources with `--status cr`, else the status branch."""
    if settings.status == "cr":
        return cr_status_store(settings)
    return git_status_store(settings, meter)


def limits(settings: Settings) -> Limits:
    return Limits(settings.max_manifest_bytes, settings.max_manifest_nodes)


def manifest_reader(settings: Settings) -> ManifestReader:
    """The reader a sync or agent keeps for its life, with the settings' excludes and limits."""
    return ManifestReader(
        limits=limits(settings), excludes=settings.excludes, artifacts=settings.artifact_policy()
    )


def local_ports(
    settings: Settings,
    source: GitSource | None = None,
    *,
    status: StatusStore | None = None,
    meter: Meter = NULL_METER,
) -> Ports:
    """The embedded setup: Flink JVMs on this machine, status files under the data dir (or
    custom resources with `--status cr`). `meter`: where measurements go (the agent's
    Prometheus registry)."""
    store = status or status_store(settings)
    return Ports(
        source=source,
        runtime=local_runtime(settings, owner=owner_of(store, settings)),
        flink=RestClients(meter, timeout=settings.flink_rest_timeout_seconds),
        status=store,
        clock=SystemClock(),
        artifacts=artifact_fetcher(settings),
        meter=meter,
    )


def ports(
    settings: Settings,
    source: GitSource | None = None,
    *,
    status: StatusStore | None = None,
    meter: Meter = NULL_METER,
    fence: Fence | None = None,
) -> Ports:
    """The runtime the settings name (local by default), REST clients, the status store.
    `fence`: every write asks it first (runtime.fencing; leader election)."""
    if settings.runtime != "kubernetes":
        built = local_ports(settings, source, status=status, meter=meter)
    else:
        clock = SystemClock()
        built = Ports(
            source=source,
            runtime=kubernetes_runtime(settings, clock, fence),
            flink=RestClients(meter, timeout=settings.flink_rest_timeout_seconds),
            status=status or status_store(settings),
            clock=clock,
            artifacts=artifact_fetcher(settings),
            meter=meter,
        )
    built = dataclasses.replace(built, reverts=revert_branches(settings, source))
    return built if fence is None else fenced(built, fence)


def validators(enabled: bool = True) -> LoadedValidators:
    """The custom validators (entry points `gitflink.validators`) every command runs, and the
    plugins that could not be loaded; both go into each pass (`PassConfig`)."""
    return load_validators() if enabled else LoadedValidators((), ())


def prune_guard(settings: Settings, *, allow: bool = False) -> PruneGuard:
    return PruneGuard(settings.max_prune_share, allowed=allow or settings.allow_mass_prune)


def healing(settings: Settings) -> Healing:
    """How a pass converges what runs differently from Git (docs/recovery.md)."""
    return Healing(
        self_heal=settings.self_heal,
        restart_failed=settings.restart_failed,
        backoff_first=settings.restart_backoff_seconds,
        backoff_cap=settings.restart_backoff_max_seconds,
        readiness_timeout=settings.readiness_timeout_seconds,
    )
