"""The Ingress of `ingress.template`: `{{name}}` and `{{namespace}}` filled in, the host before
the first `/` (none when the template starts with `/`), the path after it, routed to REST."""

from __future__ import annotations

from typing import Any

from gitflink.core.rendering import naming
from gitflink.model.resources import FlinkDeployment


def ingress(deployment: FlinkDeployment, labels: dict[str, str]) -> list[dict[str, Any]]:
    spec = deployment.spec.ingress
    if spec is None or not spec.template:
        return []
    name, namespace = deployment.metadata.name, deployment.metadata.namespace
    url = spec.template.replace("{{name}}", name).replace("{{namespace}}", namespace)
    url = url.split("://", 1)[-1]
    host, slash, path = url.partition("/")
    backend = {"service": {"name": naming.rest_service(name), "port": {"number": naming.REST_PORT}}}
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": f"/{path}" if slash else "/",
                    # Templates often carry rewrite regexes, which only this type allows.
                    "pathType": "ImplementationSpecific",
                    "backend": backend,
                }
            ]
        }
    }
    if host:
        rule["host"] = host.split(":", 1)[0]
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {**(spec.labels or {}), **labels},
    }
    if spec.annotations:
        metadata["annotations"] = dict(spec.annotations)
    body: dict[str, Any] = {"rules": [rule]}
    if spec.class_name:
        body["ingressClassName"] = spec.class_name
    if spec.tls:
        body["tls"] = [dict(entry) for entry in spec.tls]
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": metadata,
            "spec": body,
        }
    ]
