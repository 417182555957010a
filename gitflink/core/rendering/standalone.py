"""Flink's standalone layout: a JobManager Deployment (a session cluster, or an application
cluster running the job from the image), a TaskManager Deployment sized for the job's slots,
and the RPC (headless) and REST Services."""

from __future__ import annotations

from typing import Any

from gitflink.core.rendering import configuring, naming
from gitflink.core.rendering.pods import MainContainer, Role, pod_template
from gitflink.model.flink import JobStart
from gitflink.model.resources import FlinkDeployment


def jobmanager_args(deployment: FlinkDeployment, start: JobStart | None) -> list[str]:
    """`jobmanager` for a session cluster; `standalone-job` for an application started with its
    job: the jar in the image (local://), gitflink's job id, the restore path."""
    job = deployment.spec.job
    if job is None or start is None:
        return ["jobmanager"]
    # --jars takes several values: the next option ends them.
    args = ["standalone-job", "--jars", job.jar_uri or "", "--job-id", start.job_id]
    args.append(f"-Dparallelism.default={configuring.parallelism(deployment)}")
    if job.entry_class:
        args += ["--job-classname", job.entry_class]
    if start.restore_path:
        args += ["--fromSavepoint", start.restore_path]
        if start.allow_non_restored_state:
            args.append("--allowNonRestoredState")
    return args + list(job.args or [])


def deployment_object(
    deployment: FlinkDeployment,
    role: Role,
    *,
    name: str,
    replicas: int,
    selector: dict[str, str],
    template: dict[str, Any],
    labels: dict[str, str],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        # Only the layout's own labels: a user's pod label must not change what is selected.
        "selector": {"matchLabels": dict(selector)},
        "template": template,
    }
    # Two JobManagers of one cluster must never run at once, and TaskManagers of an old and a
    # new JobManager must not mix while a new application starts: no overlapping rollouts.
    spec["strategy"] = {"type": "Recreate"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": deployment.metadata.namespace,
            "labels": dict(labels),
        },
        "spec": spec,
    }


def deployments(
    deployment: FlinkDeployment,
    *,
    start: JobStart | None,
    labels: dict[str, str],
    config_digest: str,
    service_account: str | None,
) -> list[dict[str, Any]]:
    name = deployment.metadata.name
    objects = []
    role: Role
    for role in ("jobmanager", "taskmanager"):
        args = (
            jobmanager_args(deployment, start)
            if role == "jobmanager"
            # The JobManager reaches a TaskManager at the address it registers: its pod IP.
            else ["taskmanager", "-Dtaskmanager.host=$(POD_IP)"]
        )
        selector = naming.selector(name, role, native=False)
        template = pod_template(
            deployment,
            role,
            MainContainer(args=args),
            selector=selector,
            config_digest=config_digest,
            service_account=service_account,
            job_id=start.job_id if start is not None and deployment.spec.job else None,
        )
        if role == "jobmanager":
            replicas = deployment.spec.job_manager.replicas
            object_name = name
        else:
            replicas = configuring.taskmanager_replicas(deployment)
            object_name = naming.taskmanager(name)
        objects.append(
            deployment_object(
                deployment,
                role,
                name=object_name,
                replicas=replicas,
                selector=selector,
                template=template,
                labels=labels,
            )
        )
    return objects


def services(
    deployment: FlinkDeployment, labels: dict[str, str], native: bool
) -> list[dict[str, Any]]:
    name, namespace = deployment.metadata.name, deployment.metadata.namespace
    selector = naming.selector(name, "jobmanager", native=native)
    rpc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            # Headless: TaskManagers resolve the JobManager pod itself, as Flink's native
            # internal Service does.
            "clusterIP": "None",
            "selector": selector,
            "ports": [
                {"name": "jobmanager-rpc", "port": naming.RPC_PORT},
                {"name": "blobserver", "port": naming.BLOB_PORT},
            ],
        },
    }
    rest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": naming.rest_service(name),
            "namespace": namespace,
            "labels": dict(labels),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "rest", "port": naming.REST_PORT, "targetPort": naming.REST_PORT}],
        },
    }
    return [rpc, rest]
