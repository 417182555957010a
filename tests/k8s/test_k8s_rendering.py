"""Every upstream example, rendered in both layouts, is accepted by the test bed's real API
server (server-side apply, dry run), owner references included."""

from __future__ import annotations

import kubernetes.client as k8s
import pytest
from kubernetes.client.exceptions import ApiException
from support.fakes import FakeClock
from support.upstream_examples import is_canary, upstream_documents

from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.core.rendering.manifests import RenderContext, first_start, render
from gitflink.core.rendering.naming import Owner, owned
from gitflink.model.resources import DeploymentMode, FlinkDeployment, ObjectMeta

pytestmark = pytest.mark.k8s


def examples(namespace: str) -> list[tuple[str, FlinkDeployment]]:
    found = []
    for path, doc in upstream_documents():
        if doc["kind"] != "FlinkDeployment" or is_canary(doc):
            continue
        resource = FlinkDeployment.model_validate(doc)
        meta = ObjectMeta(name=resource.metadata.name, namespace=namespace)
        for mode in DeploymentMode:
            spec = resource.spec.model_copy(update={"mode": mode})
            found.append(
                (
                    f"{path.name} {mode}",
                    resource.model_copy(update={"metadata": meta, "spec": spec}),
                )
            )
    return found


def test_the_api_server_accepts_every_rendered_upstream_example(
    kube_api: k8s.ApiClient, namespace: str
) -> None:
    kube = KubeRequests(kube_api, FakeClock())
    owner = Owner("apps/v1", "Deployment", "x", "0b5e0c4e-0000-4000-8000-000000000001")
    cases = examples(namespace)
    assert len(cases) >= 30
    kinds = set()
    for name, resource in cases:
        objects = owned(render(resource, RenderContext(start=first_start(resource))), owner)
        for obj in objects:
            try:
                answer = kube.apply(obj, dry_run=True)
            except ApiException as error:
                pytest.fail(f"{name}: {obj['kind']} {obj['metadata']['name']}: {error.body}")
            assert answer["metadata"]["name"] == obj["metadata"]["name"]
            kinds.add(obj["kind"])
    assert {"Deployment", "ConfigMap", "Service", "Ingress", "Role", "RoleBinding"} <= kinds
    # A dry run writes nothing.
    assert k8s.AppsV1Api(kube_api).list_namespaced_deployment(namespace).items == []


def test_the_dry_run_refuses_what_the_server_would_refuse(
    kube_api: k8s.ApiClient, namespace: str
) -> None:
    """The check above can fail: a Deployment whose selector does not match its pods is 422."""
    (_, resource), *_ = examples(namespace)
    jobmanager = render(resource, RenderContext())[0]
    jobmanager["spec"]["selector"] = {"matchLabels": {"app": "someone-else"}}
    with pytest.raises(ApiException) as refused:
        KubeRequests(kube_api, FakeClock()).apply(jobmanager, dry_run=True)
    assert refused.value.status == 422
