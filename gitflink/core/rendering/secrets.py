"""A configuration with secrets (by the rule of model.secrets: sensitive keys, credentials
inside values) is not put in the cluster's ConfigMap: its configuration file goes into a Secret
of its own, and the pods mount ConfigMap and Secret together (a projected volume) at the same
configuration directory. Native mode is the exception: Flink's own TaskManager pods mount the
ConfigMap by name, so the whole file stays there (docs/kubernetes.md#secrets)."""

from __future__ import annotations

import base64
from typing import Any

from gitflink.core.redaction import redact
from gitflink.core.rendering import naming


def secret_name(name: str) -> str:
    return f"{naming.config_map(name)}-secrets"


def has_secrets(config: dict[str, Any]) -> bool:
    return bool(redact(config) != config)


def split(
    data: dict[str, str], config_file: str, config: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """(ConfigMap data, Secret data): the configuration file moves to the Secret when the
    configuration holds a secret."""
    if not has_secrets(config):
        return data, {}
    public = {key: text for key, text in data.items() if key != config_file}
    return public, {config_file: data[config_file]}


def secret_object(
    name: str, namespace: str, labels: dict[str, str], files: dict[str, str]
) -> dict[str, Any]:
    encoded = {key: base64.b64encode(text.encode()).decode() for key, text in files.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name(name), "namespace": namespace, "labels": dict(labels)},
        "type": "Opaque",
        "data": encoded,
    }


def project(workload: dict[str, Any], name: str) -> dict[str, Any]:
    """`workload` (a Deployment) with its configuration volume made of the ConfigMap and the
    Secret together."""
    pod = workload["spec"]["template"]["spec"]
    secret = {"secret": {"name": secret_name(name)}}
    volumes = [
        {
            "name": naming.CONFIG_VOLUME,
            "projected": {"sources": [{"configMap": v["configMap"]}, secret]},
        }
        if v.get("name") == naming.CONFIG_VOLUME and "configMap" in v
        else v
        for v in pod.get("volumes", [])
    ]
    template = {**workload["spec"]["template"], "spec": {**pod, "volumes": volumes}}
    return {**workload, "spec": {**workload["spec"], "template": template}}
