"""Flink on this machine and over REST: the local runtime, REST clients, jar downloads."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from gitflink.adapters.artifact_fetch import HttpArtifactFetcher
from gitflink.adapters.flink_rest import DEFAULT_TIMEOUT, FlinkRest
from gitflink.adapters.local_runtime.runtime import LocalRuntime
from gitflink.adapters.status_git import GitStatusStore
from gitflink.core import artifacts
from gitflink.model.secrets import hide_in_text
from gitflink.ports import (
    NULL_METER,
    FlinkApi,
    Meter,
    StatusStore,
)
from gitflink.settings import Settings

if TYPE_CHECKING:
    pass


class RestClients:
    """FlinkApiFactory that keeps one client (and its connection pool) per REST URL."""

    def __init__(self, meter: Meter = NULL_METER, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._meter, self._timeout = meter, timeout
        self._clients: dict[str, FlinkRest] = {}
        self._lock = threading.Lock()

    def __call__(self, rest_url: str) -> FlinkApi:
        with self._lock:
            client = self._clients.get(rest_url)
            if client is None:
                client = self._clients[rest_url] = FlinkRest(
                    rest_url, meter=self._meter, timeout=self._timeout
                )
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def local_runtime(settings: Settings, *, owner: str = "") -> LocalRuntime:
    """`owner`: the status store the runtime acts for (see `owner_of`); empty for `gitflink
    local`, which manages any cluster."""
    return LocalRuntime(settings.data_dir, settings.cache_dir, settings.flink_home, owner=owner)


def owner_of(store: StatusStore, settings: Settings) -> str:
    """How a cluster names the status store that manages it."""
    if settings.status == "cr":
        return "custom resources in Kubernetes"
    if isinstance(store, GitStatusStore):
        url = hide_in_text(store.url, lambda _: "******")
        return f"status branch {store.branch} of {url}"
    return f"status files in {settings.data_dir}"


def artifact_fetcher(settings: Settings) -> HttpArtifactFetcher:
    """https jars for session jobs, under the agent's artifact policy (docs/security.md)."""
    return HttpArtifactFetcher(
        settings.cache_dir,
        check_address=artifacts.restricted_address,
        policy=settings.artifact_policy(),
        max_bytes=settings.artifact_max_bytes,
        timeout=settings.artifact_timeout_seconds,
    )
