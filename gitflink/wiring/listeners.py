"""The listeners a pass tells what it did: built-in ones from settings, and plugins."""

from __future__ import annotations

from gitflink.adapters.notify import (
    Delivery,
    GitHubCommitStatus,
    GitLabCommitStatus,
    WebhookListener,
)
from gitflink.adapters.system_clock import SystemClock
from gitflink.ports import NULL_METER, Fence, Meter, ResourceListener
from gitflink.runtime.listener_loading import load_listeners
from gitflink.runtime.notifying import NamedListener, Notifier
from gitflink.settings import Settings, SettingsError
from gitflink.wiring.git import repository_path
from gitflink.wiring.kubernetes import kube_client


def notifier(
    settings: Settings,
    meter: Meter = NULL_METER,
    *,
    plugins: bool = True,
    fence: Fence | None = None,
) -> Notifier:
    """The built-in listeners the settings ask for, and the plugins (entry points
    `gitflink.listeners`); a plugin that cannot be loaded is logged and counted, never fatal.
    `fence`: the agent's leader election; nothing is told while it cannot prove it leads."""
    named = [NamedListener(name, listener) for name, listener in _builtin(settings, meter)]
    timeout = settings.listener_timeout_seconds
    notify = Notifier(named, timeout=timeout, meter=meter, fence=fence)
    if plugins:
        loaded = load_listeners(settings.listener_options)
        notify.listeners += loaded.listeners
        for error in loaded.errors:
            notify.failed_to_load(error)
    return notify


def _builtin(settings: Settings, meter: Meter) -> list[tuple[str, ResourceListener]]:
    delivery = Delivery(meter=meter)
    found: list[tuple[str, ResourceListener]] = []
    if settings.notify_webhook_url is not None:
        url = settings.notify_webhook_url.reveal()
        hook = WebhookListener(url, secret=settings.notify_webhook_secret, delivery=delivery)
        found.append(("webhook", hook))
    if settings.status == "cr":
        from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
        from gitflink.adapters.status_cr.events import KubernetesEvents

        kube = KubeRequests(kube_client(settings), SystemClock())
        found.append(("kubernetes-events", KubernetesEvents(kube)))
    provider = settings.commit_status
    if provider is None:
        return found
    if settings.commit_status_token is None:
        raise SettingsError(f"GITFLINK_COMMIT_STATUS={provider} needs GITFLINK_COMMIT_STATUS_TOKEN")
    repository = settings.commit_status_repository or repository_path(settings.repo or "")
    if not repository:
        raise SettingsError(
            f"GITFLINK_COMMIT_STATUS={provider} needs GITFLINK_COMMIT_STATUS_REPOSITORY "
            "(owner/name) when --repo is not a URL"
        )
    token = settings.commit_status_token
    forge = GitHubCommitStatus if provider == "github" else GitLabCommitStatus
    status = forge(repository, token=token, delivery=delivery, api=settings.commit_status_api)
    found.append((f"commit-status-{provider}", status))
    return found
