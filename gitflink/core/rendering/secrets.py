"""A configuration with secrets (by the rule of model.secrets: sensitive keys, credentials
inside values) is not put in the cluster's ConfigMap: its configuration file goes into a Secret
of its own, and the pods mount ConfigMap and Secret together (a projected volume) at the same
configuration directory. Native mode is the exception: Flink's own TaskManager pods mount the
ConfigMap by name, so the whole file stays there (docs/kubernetes.md#secrets). A secret among
a container's arguments (`--db-password x`) is kept in the same Secret too: the argument reads
`$(GITFLINK_SECRET_ARG_<n>)`, an environment variable the kubelet fills from it."""

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


def hide_args(workload: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """`workload` with each secret argument of its containers replaced by a reference to an
    environment variable from the Secret, and the Secret data those need."""
    pod = workload["spec"]["template"]["spec"]
    found: dict[str, str] = {}
    containers = []
    for container in pod.get("containers", []):
        args = list(container.get("args") or [])
        hidden = redact(args)
        env = list(container.get("env") or [])
        for index, (arg, shown) in enumerate(zip(args, hidden, strict=True)):
            if arg == shown:
                continue
            key, var = f"arg-{container['name']}-{index}", f"GITFLINK_SECRET_ARG_{index}"
            found[key], args[index] = arg, f"$({var})"
            ref = {"secretKeyRef": {"name": secret_name(name), "key": key}}
            env.append({"name": var, "valueFrom": ref})
        containers.append({**container, "args": args, "env": env} if args else container)
    if not found:
        return workload, {}
    template = {**workload["spec"]["template"], "spec": {**pod, "containers": containers}}
    return {**workload, "spec": {**workload["spec"], "template": template}}, found


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
