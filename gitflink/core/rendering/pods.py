"""The pod template of a JobManager or TaskManager: the user's layers, then gitflink's main
container (image, arguments, ports, resources, the configuration mounted at /opt/flink/conf)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gitflink.core.rendering import configuring, naming
from gitflink.core.rendering.templating import container_resources, layered
from gitflink.model.resources import FlinkDeployment

Role = Literal["jobmanager", "taskmanager"]
POD_IP_ENV = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}


@dataclass(frozen=True, slots=True)
class MainContainer:
    """What differs between layouts: the entrypoint arguments, and extra files to mount."""

    args: list[str]
    command: list[str] | None = None
    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)


def ports(role: Role) -> list[dict[str, Any]]:
    if role == "jobmanager":
        return [
            {"name": "rest", "containerPort": naming.REST_PORT},
            {"name": "jobmanager-rpc", "containerPort": naming.RPC_PORT},
            {"name": "blobserver", "containerPort": naming.BLOB_PORT},
        ]
    return [{"name": "taskmanager-rpc", "containerPort": naming.TM_RPC_PORT}]


def pod_template(
    deployment: FlinkDeployment,
    role: Role,
    main: MainContainer,
    *,
    selector: dict[str, str],
    config_digest: str,
    service_account: str | None,
    job_id: str | None = None,
) -> dict[str, Any]:
    spec = deployment.spec
    role_spec = spec.job_manager if role == "jobmanager" else spec.task_manager
    container: dict[str, Any] = {
        "name": naming.MAIN_CONTAINER,
        "image": configuring.image(deployment),
        "args": main.args,
        "env": [POD_IP_ENV],
        "ports": ports(role),
        "volumeMounts": [
            {"name": naming.CONFIG_VOLUME, "mountPath": naming.CONF_DIR},
            *main.mounts,
        ],
    }
    if main.command is not None:
        container["command"] = main.command
    if spec.image_pull_policy:
        container["imagePullPolicy"] = spec.image_pull_policy
    resources = container_resources(role_spec)
    if resources:
        container["resources"] = resources
    probe_port = naming.REST_PORT if role == "jobmanager" else naming.TM_RPC_PORT
    container["readinessProbe"] = {"tcpSocket": {"port": probe_port}, "periodSeconds": 2}
    annotations = {naming.CONFIG_DIGEST: config_digest}
    if job_id is not None:
        # A new application start replaces the JobManager; its TaskManagers start with it, so
        # none keeps slots of (or an address for) the one replaced.
        annotations["gitflink.io/job-id"] = job_id
    if spec.restart_nonce is not None:
        annotations["gitflink.io/restart-nonce"] = str(spec.restart_nonce)
    ours: dict[str, Any] = {
        "metadata": {"labels": dict(selector), "annotations": annotations},
        "spec": {
            "containers": [container],
            "volumes": [
                {"name": naming.CONFIG_VOLUME, "configMap": {"name": naming.config_map(
                    deployment.metadata.name
                )}},
                *main.volumes,
            ],
        },
    }  # fmt: skip
    if service_account:
        ours["spec"]["serviceAccountName"] = service_account
    template = layered(spec.pod_template, role_spec.pod_template, ours)
    # A pod template's own apiVersion/kind (upstream examples sometimes carry them) are not
    # part of a Deployment's template.
    return {key: template[key] for key in ("metadata", "spec") if key in template}
