"""Kubernetes: API credentials, the Kubernetes runtime, CR status and leader election."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gitflink.adapters.system_clock import SystemClock
from gitflink.core.rendering.manifests import RenderContext, render
from gitflink.core.rendering.naming import Owner, owned
from gitflink.model.errors import ClusterError
from gitflink.model.flink import JobStart
from gitflink.model.ids import API_VERSION, ResourceId
from gitflink.model.resources import FlinkDeployment, FlinkDeploymentSpec, ObjectMeta
from gitflink.ports import (
    NULL_METER,
    Clock,
    Fence,
    Meter,
)
from gitflink.runtime.election import Elector, Role
from gitflink.settings import Settings

if TYPE_CHECKING:
    import kubernetes.client

    from gitflink.adapters.kubernetes_runtime.runtime import KubernetesRuntime
    from gitflink.adapters.status_cr import CrStatusStore
from gitflink.wiring.flink import local_runtime
from gitflink.wiring.git import source_id


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


def kubernetes_runtime(
    settings: Settings, clock: SystemClock | None = None, fence: Fence | None = None
) -> KubernetesRuntime:
    """Clusters as Kubernetes objects, every write asked of `fence` first (leader election)."""
    return kubernetes_runtime_for(
        kube_client(settings, "--runtime kubernetes"), settings, clock or SystemClock(), fence
    )


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


def instance_of(settings: Settings) -> str:
    """Which gitflink keeps a custom resource's status: one label value per source, so two
    agents following two repositories in one cluster never read or prune each other's."""
    return hashlib.sha256(source_id(settings).encode()).hexdigest()[:16]


def cr_status_store(
    settings: Settings,
    client: kubernetes.client.ApiClient | None = None,
    *,
    every_instance: bool = False,
    instance: str | None = None,
) -> CrStatusStore:
    """Status as custom resources (`--status cr`), through the Kubernetes credentials of
    `--runtime kubernetes` (or `client`). The store of this source's instance, or `instance`;
    `every_instance`: read every gitflink's, write none (`gitflink status`)."""
    from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
    from gitflink.adapters.status_cr import CrStatusStore

    kube = KubeRequests(client or kube_client(settings), SystemClock())
    label = None if every_instance else instance or instance_of(settings)
    return CrStatusStore(kube, label, namespaces=settings.namespaces)
