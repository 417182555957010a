"""Flink's native Kubernetes layout: the JobManager Deployment started in kubernetes-session or
kubernetes-application mode; it creates its TaskManager pods itself from the pod template file
gitflink puts in the cluster's ConfigMap."""

from __future__ import annotations

import json
from typing import Any

from gitflink.core.rendering import naming
from gitflink.core.rendering.configuring import POD_TEMPLATE_DIR, TM_POD_TEMPLATE, native_target
from gitflink.core.rendering.pods import MainContainer, pod_template
from gitflink.core.rendering.standalone import deployment_object
from gitflink.core.rendering.templating import layered
from gitflink.model.flink import JobStart
from gitflink.model.resources import FlinkDeployment

TEMPLATE_VOLUME = "pod-template-volume"


def taskmanager_template(deployment: FlinkDeployment) -> str:
    """The user's TaskManager pod template layers (Flink adds its own main container settings
    to the container named flink-main-container), as YAML (JSON is YAML)."""
    spec = deployment.spec
    template = layered(
        {"apiVersion": "v1", "kind": "Pod"},
        spec.pod_template,
        spec.task_manager.pod_template,
        {"spec": {"containers": [{"name": naming.MAIN_CONTAINER}]}},
    )
    return json.dumps(template, sort_keys=True, indent=2) + "\n"


def jobmanager(
    deployment: FlinkDeployment,
    *,
    start: JobStart | None,
    labels: dict[str, str],
    config_digest: str,
    service_account: str | None,
) -> dict[str, Any]:
    mode = native_target(deployment, start)
    name = deployment.metadata.name
    main = MainContainer(
        command=["/docker-entrypoint.sh"],
        args=["bash", "-c", f"kubernetes-jobmanager.sh {mode}"],
        volumes=[
            {
                "name": TEMPLATE_VOLUME,
                "configMap": {
                    "name": naming.config_map(name),
                    "items": [{"key": TM_POD_TEMPLATE, "path": TM_POD_TEMPLATE}],
                },
            }
        ],
        mounts=[{"name": TEMPLATE_VOLUME, "mountPath": POD_TEMPLATE_DIR}],
    )
    selector = naming.selector(name, "jobmanager", native=True)
    template = pod_template(
        deployment,
        "jobmanager",
        main,
        selector=selector,
        config_digest=config_digest,
        service_account=service_account,
    )
    replicas = deployment.spec.job_manager.replicas
    return deployment_object(
        deployment,
        "jobmanager",
        name=name,
        replicas=replicas,
        selector=selector,
        template=template,
        labels=labels,
    )


def native_extra_files(deployment: FlinkDeployment) -> dict[str, str]:
    return {TM_POD_TEMPLATE: taskmanager_template(deployment)}
