"""The Flink configuration of a cluster on Kubernetes and its ConfigMap data: addresses and
ports of the Services, memory from `resource`, HA with the FLINK-27569 workaround, the native
integration's keys, and the log configuration (default console log4j, overridable per file).
"""

from __future__ import annotations

from typing import Any

from gitflink.core.rendering import naming
from gitflink.model.flink import JobStart
from gitflink.model.flinkconf import config_file_name, config_file_text
from gitflink.model.resources import FlinkDeployment, FlinkVersion

DEFAULT_VERSION = FlinkVersion.V1_20
HA_FACTORY = "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"
POD_TEMPLATE_DIR = "/opt/flink/pod-template"
TM_POD_TEMPLATE = "taskmanager-pod-template.yaml"
# The Flink image's docker-entrypoint.sh starts every process with log4j-console.properties.
LOG4J_CONSOLE = """\
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
logger.akka.name = akka
logger.akka.level = INFO
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
"""


def version(deployment: FlinkDeployment) -> FlinkVersion:
    return deployment.spec.flink_version or DEFAULT_VERSION


def image(deployment: FlinkDeployment) -> str:
    major, minor = version(deployment).major_minor
    return deployment.spec.image or f"flink:{major}.{minor}"


def slots(deployment: FlinkDeployment) -> int:
    return int(deployment.spec.flink_configuration.get("taskmanager.numberOfTaskSlots", 1))


def parallelism(deployment: FlinkDeployment) -> int:
    job = deployment.spec.job
    if job is not None and job.parallelism:
        return job.parallelism
    return int(deployment.spec.flink_configuration.get("parallelism.default", 1))


def taskmanager_replicas(deployment: FlinkDeployment) -> int:
    """taskManager.replicas, else as many TaskManagers as the job's slots need."""
    if deployment.spec.task_manager.replicas is not None:
        return deployment.spec.task_manager.replicas
    if deployment.spec.job is None:
        return 1
    return -(-parallelism(deployment) // slots(deployment))


def ha_enabled(config: dict[str, Any]) -> bool:
    value = str(config.get("high-availability.type", config.get("high-availability", "")))
    return value.lower() == "kubernetes" or value == HA_FACTORY


def flink_configuration(
    deployment: FlinkDeployment,
    *,
    native: bool,
    start: JobStart | None,
    service_account: str | None,
    cluster_start: str,
) -> dict[str, Any]:
    spec, meta = deployment.spec, deployment.metadata
    user = dict(spec.flink_configuration)
    config: dict[str, Any] = {
        "taskmanager.numberOfTaskSlots": slots(deployment),
        "rest.port": naming.REST_PORT,
        "blob.server.port": naming.BLOB_PORT,
        "taskmanager.rpc.port": naming.TM_RPC_PORT,
        # The job ends with a stop-with-savepoint: the JobManager must stay up to report it, or
        # its Deployment would restart it and run the job again from the start savepoint.
        "execution.shutdown-on-application-finish": False,
    }
    for role, spec_role in (("jobmanager", spec.job_manager), ("taskmanager", spec.task_manager)):
        if spec_role.resource is not None and spec_role.resource.memory:
            config[f"{role}.memory.process.size"] = spec_role.resource.memory
        if native and spec_role.resource is not None and spec_role.resource.cpu is not None:
            key = "amount" if version(deployment).at_least(1, 17) else ""
            config[f"kubernetes.{role}.cpu{'.' + key if key else ''}"] = spec_role.resource.cpu
    if native and start is not None:
        # A native application reads its job's parallelism here; a standalone one from its
        # arguments (so a rescale never changes the ConfigMap under running TaskManagers), a
        # session cluster per submitted job.
        config["parallelism.default"] = parallelism(deployment)
    config.update(user)
    # Owned by the layout: the Services route to these ports and this address.
    config["jobmanager.rpc.address"] = f"{meta.name}.{meta.namespace}"
    config["jobmanager.rpc.port"] = naming.RPC_PORT
    if native or ha_enabled(user):
        config["kubernetes.cluster-id"] = meta.name
        config["kubernetes.namespace"] = meta.namespace
    if native:
        config.update(_native(deployment, service_account, start))
    if ha_enabled(user):
        config.update(_ha(deployment, user, cluster_start))
    return config


def native_target(deployment: FlinkDeployment, start: JobStart | None) -> str:
    """An application cluster only when it starts with its job; else a session cluster."""
    application = deployment.spec.job is not None and start is not None
    return "kubernetes-application" if application else "kubernetes-session"


def _native(
    deployment: FlinkDeployment, service_account: str | None, start: JobStart | None
) -> dict[str, Any]:
    job = deployment.spec.job
    image_key = (
        "kubernetes.container.image.ref"
        if version(deployment).at_least(1, 17)
        else "kubernetes.container.image"
    )
    config: dict[str, Any] = {
        "execution.target": native_target(deployment, start),
        image_key: image(deployment),
        "kubernetes.rest-service.exposed.type": "ClusterIP",
        "kubernetes.jobmanager.replicas": deployment.spec.job_manager.replicas,
        "kubernetes.pod-template-file.taskmanager": f"{POD_TEMPLATE_DIR}/{TM_POD_TEMPLATE}",
    }
    if service_account:
        config["kubernetes.service-account"] = service_account
    if deployment.spec.image_pull_policy:
        config["kubernetes.container.image.pull-policy"] = deployment.spec.image_pull_policy
    if job is not None and start is not None:
        # The native application entrypoint reads its program from the configuration.
        config["pipeline.jars"] = job.jar_uri or ""
        config["$internal.pipeline.job-id"] = start.job_id
        if job.entry_class:
            config["$internal.application.main"] = job.entry_class
        if job.args:
            config["$internal.application.program-args"] = ";".join(job.args)
        if start.restore_path:
            config["execution.savepoint.path"] = start.restore_path
            config["execution.savepoint.ignore-unclaimed-state"] = start.allow_non_restored_state
    return config


def _ha(deployment: FlinkDeployment, user: dict[str, Any], cluster_start: str) -> dict[str, Any]:
    """Kubernetes HA, and FLINK-27569: a JobResultStore entry left from an earlier cluster
    start makes a restarted application cluster treat its (new) job as already finished. Keep
    entries (delete-on-commit false, so a crashed JobManager still finds its own), but give
    every cluster start a path of its own; the runtime removes the old ones."""
    config: dict[str, Any] = {"high-availability.type": "kubernetes"}
    storage = str(user.get("high-availability.storageDir", "")).rstrip("/")
    if storage and "job-result-store.storage-path" not in user:
        config["job-result-store.delete-on-commit"] = False
        name = deployment.metadata.name
        config["job-result-store.storage-path"] = (
            f"{storage}/job-result-store/{name}/{cluster_start}"
        )
    return config


def config_map_data(
    deployment: FlinkDeployment, config: dict[str, Any], extra: dict[str, str]
) -> dict[str, str]:
    legacy = not version(deployment).at_least(1, 19)
    data = {
        config_file_name(legacy): config_file_text(config, legacy),
        "log4j-console.properties": LOG4J_CONSOLE,
    }
    data.update(deployment.spec.log_configuration or {})
    data.update(extra)
    return data
