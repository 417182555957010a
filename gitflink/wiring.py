"""Composition root: Settings -> adapters -> Ports. The only module besides the CLI that imports
adapters, so everything below it sees ports only."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from gitflink.adapters.artifact_fetch import HttpArtifactFetcher
from gitflink.adapters.flink_rest import DEFAULT_TIMEOUT, FlinkRest
from gitflink.adapters.git_source import GitSource as RemoteRepository
from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.git_source.access import GitCredentials, git_env, is_remote, split_url
from gitflink.adapters.git_source.revert import RevertBranches
from gitflink.adapters.local_runtime.runtime import LocalRuntime
from gitflink.adapters.notify import (
    Delivery,
    GitHubCommitStatus,
    GitLabCommitStatus,
    WebhookListener,
)
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.core import artifacts
from gitflink.core.limits import Limits
from gitflink.core.planning import Healing
from gitflink.core.planning.removal import PruneGuard
from gitflink.core.rendering.manifests import RenderContext, render
from gitflink.core.rendering.naming import Owner, owned
from gitflink.model.errors import ClusterError
from gitflink.model.flink import JobStart
from gitflink.model.ids import API_VERSION, ResourceId
from gitflink.model.resources import FlinkDeployment, FlinkDeploymentSpec, ObjectMeta
from gitflink.model.secrets import hide_in_text
from gitflink.ports import (
    NULL_METER,
    Clock,
    Fence,
    FlinkApi,
    GitSource,
    Meter,
    Ports,
    ResourceListener,
    Revision,
    StatusStore,
)
from gitflink.runtime.election import Elector, Role
from gitflink.runtime.fencing import fenced
from gitflink.runtime.listener_loading import load_listeners
from gitflink.runtime.notifying import NamedListener, Notifier
from gitflink.runtime.reading import ManifestReader
from gitflink.runtime.validator_loading import LoadedValidators, load_validators
from gitflink.settings import Settings, SettingsError

if TYPE_CHECKING:
    import kubernetes.client

    from gitflink.adapters.kubernetes_runtime.runtime import KubernetesRuntime
    from gitflink.adapters.status_cr import CrStatusStore


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


def local_repository(path: str | Path, ref: str = "HEAD") -> LocalRepository:
    return LocalRepository(path, ref)


def git_credentials(settings: Settings) -> GitCredentials:
    return GitCredentials(
        token=settings.git_token,
        username=settings.git_username,
        password=settings.git_password,
        ssh_key=settings.git_ssh_key,
        known_hosts=settings.git_known_hosts,
    )


def remote_repository(settings: Settings, url: str, ref: str | None = None) -> RemoteRepository:
    """Follows `ref` (default: the remote's HEAD) of `url` in a shallow cache under the cache
    dir, with the credentials and signature keyring from settings."""
    return RemoteRepository(
        url,
        cache_dir=settings.cache_dir,
        ref=ref,
        credentials=git_credentials(settings),
        verify_keyring=settings.verify_keyring,
    )


def source_for(settings: Settings, repo: str, ref: str | None = None) -> GitSource:
    """A URL (https, ssh, git@, file://) is fetched into the cache; a local path is read in
    place at `ref` (default HEAD), so unpushed commits of a checkout can be synced too.
    Raises SourceError for a path that is not a repository."""
    if is_remote(repo) or settings.verify_keyring is not None:
        # Signatures are checked on fetch, so a local path under verification is fetched too.
        return remote_repository(settings, repo, ref)
    return local_repository(repo, ref or "HEAD")


class Revisions(Protocol):
    """Any revision of one repository, read without a checkout (what `plan` compares)."""

    def resolve(self, rev: str) -> Revision: ...

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]: ...


class RemoteRevisions:
    """Revisions of a remote, each branch, tag or full commit id fetched shallowly on demand
    into the same cache `sync` and `agent` use."""

    def __init__(self, settings: Settings, url: str) -> None:
        self._settings, self._url = settings, url
        self._sources: dict[str, RemoteRepository] = {}

    def resolve(self, rev: str) -> Revision:
        source = remote_repository(self._settings, self._url, None if rev == "HEAD" else rev)
        revision = source.fetch()
        self._sources[revision.sha] = source
        return revision

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        return self._sources[revision.sha].read_tree(revision, roots)


def revisions(settings: Settings, repo: str) -> Revisions:
    """A local path is read in place (any revision git can name); a URL through the cache.
    Raises SourceError for a local path that is not a repository."""
    if is_remote(repo):
        return RemoteRevisions(settings, repo)
    return LocalRepository(repo)


StatusBranch = GitStatusStore  # the status branch store, for callers that flush it


def git_status_store(settings: Settings, meter: Meter = NULL_METER) -> GitStatusStore:
    """The status branch of `status_repo` (default: the repository followed), with the same
    credentials; credentials written into the URL are moved out of it first."""
    url, found = split_url(settings.status_repo or settings.repo or ".")
    return GitStatusStore(
        url,
        cache_dir=settings.cache_dir,
        branch=settings.status_branch,
        env=git_env(url, git_credentials(settings).merged(found)),
        author=(settings.git_author_name, settings.git_author_email),
        meter=meter,
    )


def file_status_store(settings: Settings) -> FileStatusStore:
    return FileStatusStore(settings.data_dir)


def cr_status_store(
    settings: Settings,
    client: kubernetes.client.ApiClient | None = None,
    *,
    every_instance: bool = False,
) -> CrStatusStore:
    """Status as custom resources (`--status cr`), through the Kubernetes credentials of
    `--runtime kubernetes` (or `client`)."""
    from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
    from gitflink.adapters.status_cr import CrStatusStore

    # Which gitflink keeps a custom resource's status: one label value per source, so two
    # agents following two repositories in one cluster never read or prune each other's.
    # `every_instance`: read every gitflink's, write none (`gitflink status`).
    instance = hashlib.sha256(source_id(settings).encode()).hexdigest()[:16]
    kube = KubeRequests(client or kube_client(settings), SystemClock())
    return CrStatusStore(kube, None if every_instance else instance, namespaces=settings.namespaces)


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


def artifact_fetcher(settings: Settings) -> HttpArtifactFetcher:
    """https jars for session jobs, under the agent's artifact policy (docs/security.md)."""
    return HttpArtifactFetcher(
        settings.cache_dir,
        check_address=artifacts.restricted_address,
        policy=settings.artifact_policy(),
        max_bytes=settings.artifact_max_bytes,
        timeout=settings.artifact_timeout_seconds,
    )


def kubernetes_runtime(
    settings: Settings, clock: SystemClock | None = None, fence: Fence | None = None
) -> KubernetesRuntime:
    """Clusters as Kubernetes objects, every write asked of `fence` first (leader election)."""
    return kubernetes_runtime_for(
        kube_client(settings, "--runtime kubernetes"), settings, clock or SystemClock(), fence
    )


def kube_client(
    settings: Settings, purpose: str = "--runtime kubernetes or --status cr"
) -> kubernetes.client.ApiClient:
    """Credentials: the kubeconfig context when one is named, else the pod's service account in
    a cluster, else the kubeconfig's current context."""
    # Imported here: the client takes a while to import, and most commands never need it.
    import kubernetes.client
    import kubernetes.config

    from gitflink.adapters.kubernetes_runtime import hosting

    configuration = kubernetes.client.Configuration()
    try:
        if settings.kube_context is None and hosting.in_cluster():
            kubernetes.config.load_incluster_config(client_configuration=configuration)
        else:
            # KUBECONFIG read now: the client reads it once, when it is first imported.
            kubernetes.config.load_kube_config(
                config_file=os.environ.get("KUBECONFIG") or None,
                context=settings.kube_context,
                client_configuration=configuration,
            )
    except (kubernetes.config.ConfigException, OSError) as error:
        raise ClusterError(f"no Kubernetes credentials for {purpose}: {error}") from None
    return kubernetes.client.ApiClient(configuration)


def kubernetes_runtime_for(
    client: kubernetes.client.ApiClient,
    settings: Settings,
    clock: Clock,
    fence: Fence | None = None,
) -> KubernetesRuntime:
    """The Kubernetes runtime on an API client (tests give theirs). An application starts its
    job with its JobManager (the jar in the image); session jobs are uploaded over REST, their
    jars resolved as the local runtime resolves them."""
    from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
    from gitflink.adapters.kubernetes_runtime.runtime import KubernetesRuntime

    return KubernetesRuntime(
        KubeRequests(client, clock, fence=fence),
        clock,
        render_cluster,
        local_runtime(settings).resolve_jar,
        rest_url_template=settings.flink_rest_url,
        namespaces=settings.namespaces,
    )


def elector(
    settings: Settings, meter: Meter = NULL_METER, on_change: Callable[[Role], None] | None = None
) -> Elector:
    """Leader election on the settings' Lease, as this host and process."""
    from gitflink.adapters.kubernetes_lease import KubernetesLeases
    from gitflink.adapters.kubernetes_runtime import hosting

    namespace = settings.lease_namespace or hosting.pod_namespace() or "default"
    leases = KubernetesLeases(
        kube_client(settings, "leader election"), namespace, settings.lease_name
    )
    return Elector(leases, hosting.identity(), SystemClock(), meter=meter, on_change=on_change)


def render_cluster(
    resource: ResourceId,
    spec: FlinkDeploymentSpec,
    owner_uid: str | None,
    start: JobStart | None,
    revision: str | None,
) -> Sequence[dict[str, Any]]:
    """The Kubernetes runtime's renderer: core rendering, owned by the JobManager Deployment."""
    meta = ObjectMeta(name=resource.name, namespace=resource.namespace)
    objects = render(
        FlinkDeployment(apiVersion=API_VERSION, metadata=meta, spec=spec),
        RenderContext(revision=revision, start=start),
    )
    if owner_uid is None:
        return objects
    return owned(objects, Owner("apps/v1", "Deployment", resource.name, owner_uid))


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


def revert_branches(settings: Settings, source: GitSource | None) -> RevertBranches | None:
    """Branches that revert a rolled-back change, pushed to the repository the source follows
    (GITFLINK_REVERT_BRANCHES; off by default)."""
    if not settings.revert_branches:
        return None
    if isinstance(source, RemoteRepository):
        url = source.url
    elif isinstance(source, LocalRepository):
        url = str(source.root)
    else:
        return None
    author = (settings.git_author_name, settings.git_author_email)
    return RevertBranches(url, credentials=git_credentials(settings), author=author)


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


def source_id(settings: Settings) -> str:
    """What a sync or agent is a source of: repository, branch and paths (Flux's inventory
    key). A local repository is named by its absolute path."""
    repo = settings.repo or "."
    if not is_remote(repo):
        repo = str(Path(repo).resolve())
    paths = ",".join(sorted(p.strip("/") for p in settings.paths)) or "/"
    return f"{repo}#{settings.branch or 'HEAD'}:{paths}"


def notifier(settings: Settings, meter: Meter = NULL_METER, *, plugins: bool = True) -> Notifier:
    """The built-in listeners the settings ask for, and the plugins (entry points
    `gitflink.listeners`); a plugin that cannot be loaded is logged and counted, never fatal."""
    named = [NamedListener(name, listener) for name, listener in _builtin(settings, meter)]
    notify = Notifier(named, timeout=settings.listener_timeout_seconds, meter=meter)
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


def repository_path(repo: str) -> str:
    """`team/apps` from https://host/team/apps.git or git@host:team/apps.git; '' for a path."""
    if not is_remote(repo):
        return ""
    url, _ = split_url(repo)
    path = url.split(":", 1)[1] if url.startswith("git@") else urlsplit(url).path
    return path.strip("/").removesuffix(".git")
