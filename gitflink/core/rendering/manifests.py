"""`render`: every Kubernetes object of one FlinkDeployment, in the order they are applied
(the JobManager Deployment first: it owns the others once it exists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitflink.core.rendering import access, configuring, naming, native, secrets, standalone
from gitflink.core.rendering.ingress import ingress
from gitflink.model.flink import JobStart
from gitflink.model.flinkconf import config_file_name
from gitflink.model.ids import job_id_for
from gitflink.model.resources import DeploymentMode, FlinkDeployment, JobState


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What the manifest alone does not say. `start` None renders a job's cluster as a session
    cluster (the job submitted over REST afterwards); `cluster_start` names this start's
    JobResultStore directory (HA): by default the started job's id, new with every start."""

    revision: str | None = None
    start: JobStart | None = None
    cluster_start: str | None = None

    @property
    def start_name(self) -> str:
        if self.cluster_start is not None:
            return self.cluster_start
        return self.start.job_id if self.start is not None else "session"


def first_start(deployment: FlinkDeployment) -> JobStart | None:
    """The start of a first deployment: generation 1's job id, restoring initialSavepointPath."""
    job = deployment.spec.job
    if job is None or job.state is JobState.SUSPENDED:
        return None
    return JobStart(
        job_id=job_id_for(deployment.id, 1),
        restore_path=job.initial_savepoint_path,
        allow_non_restored_state=bool(job.allow_non_restored_state),
    )


def is_native(deployment: FlinkDeployment) -> bool:
    return deployment.spec.mode is DeploymentMode.NATIVE


def render(deployment: FlinkDeployment, context: RenderContext) -> tuple[dict[str, Any], ...]:
    """Plain Kubernetes objects (dicts), labelled with the resource, its spec digest and the
    Git revision. Owner references are added at apply time (`naming.owned`): they need the
    owner's uid, which only the API server knows."""
    is_nat = is_native(deployment)
    ha = configuring.ha_enabled(dict(deployment.spec.flink_configuration))
    account = access.service_account_name(deployment, needs_role=is_nat or ha)
    labels = naming.object_labels(deployment, context.revision)
    config = configuring.flink_configuration(
        deployment,
        native=is_nat,
        start=context.start,
        service_account=account,
        cluster_start=context.start_name,
    )
    extra = native.native_extra_files(deployment) if is_nat else {}
    data = configuring.config_map_data(deployment, config, extra)
    config_digest = naming.digest(data)
    meta = deployment.metadata
    hidden: dict[str, str] = {}
    if not is_nat:
        legacy = not configuring.version(deployment).at_least(1, 19)
        data, hidden = secrets.split(data, config_file_name(legacy), config)
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": naming.config_map(meta.name), "namespace": meta.namespace,
                     "labels": dict(labels)},
        "data": data,
    }  # fmt: skip
    if is_nat:
        pods = [
            native.jobmanager(
                deployment,
                start=context.start,
                labels=labels,
                config_digest=config_digest,
                service_account=account,
            )
        ]
    else:
        pods = standalone.deployments(
            deployment,
            start=context.start,
            labels=labels,
            config_digest=config_digest,
            service_account=account,
        )
    if hidden:
        pods = [secrets.project(pod, meta.name) for pod in pods]
    for index, pod in enumerate(pods):
        pods[index], found = secrets.hide_args(pod, meta.name)
        hidden.update(found)
    secret = [secrets.secret_object(meta.name, meta.namespace, labels, hidden)] if hidden else []
    rest = [
        config_map,
        *secret,
        *standalone.services(deployment, labels, native=is_nat),
        *access.objects(deployment, native=is_nat, ha=ha, labels=labels),
        *ingress(deployment, labels),
    ]
    return (pods[0], *rest, *pods[1:])
