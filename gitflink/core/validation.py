"""Rules over parsed resources, after upstream's DefaultValidator, plus cross-file checks.

Pure. Unlike upstream, which stops at the first failure, every rule runs, so one pass shows
everything to fix. Plugins (`gitflink.validators`) are loaded elsewhere and passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from gitflink.core import artifacts as artifact_rules
from gitflink.core.autoscaler_rules import autoscaler_problems
from gitflink.core.ingress_rules import ingress_problems
from gitflink.core.parsing import CONFIG, Desired
from gitflink.core.resource_rules import resource_problems
from gitflink.core.validators import Validator, run_validators
from gitflink.model.artifacts import DEFAULT_POLICY, ArtifactPolicy
from gitflink.model.ids import Kind, ResourceId, valid_name, valid_namespace
from gitflink.model.problems import Problem, Severity
from gitflink.model.resources import (
    FlinkDeployment,
    FlinkSessionJob,
    FlinkStateSnapshot,
    FlinkVersion,
    JobSpec,
    UpgradeMode,
)

FORBIDDEN_KEYS = ("kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id")
CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
HA_KEYS = ("high-availability.type", "high-availability")
PERIODIC_SAVEPOINT = "kubernetes.operator.periodic.savepoint.interval"
CHECKPOINT_MAX_AGE = "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age"
HEALTH_CHECK = "kubernetes.operator.cluster.health-check.enabled"
JM_RECOVERY = "kubernetes.operator.jm-deployment-recovery.enabled"
LOG_CONFIG_FILES = ("log4j-console.properties", "logback-console.xml")
NAME_RULE = (
    "must be lower case letters, digits and '-', start with a letter, end with a letter or "
    "digit, and be at most 45 characters"
)


def validate(
    desired: Sequence[Desired],
    validators: Sequence[Validator] = (),
    *,
    broken: Collection[ResourceId] = (),
    artifacts: ArtifactPolicy = DEFAULT_POLICY,
) -> list[Problem]:
    """All problems of `desired`; `broken` are resources that failed to parse (not missing);
    `artifacts`: which session-job jar URIs the agent may fetch (its setting)."""
    problems: list[Problem] = []
    deployments = {d.id: d for d in desired if isinstance(d.resource, FlinkDeployment)}
    for item in desired:
        problems += _names(item)
        match item.resource:
            case FlinkDeployment() as deployment:
                problems += _deployment(item, deployment)
                problems += _artifact(item, deployment.spec.job, artifacts)
            case FlinkSessionJob() as session_job:
                problems += _session_job(item, session_job, deployments, broken)
                problems += _artifact(item, session_job.spec.job, artifacts)
            case FlinkStateSnapshot() as snapshot:
                problems += _snapshot(item, snapshot, desired, broken)
    problems += _duplicates(desired)
    problems += run_validators(validators, desired)
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    return problems


def _names(item: Desired) -> list[Problem]:
    name, namespace = item.resource.metadata.name, item.resource.metadata.namespace
    problems = []
    if not valid_name(item.id.kind, name):
        if isinstance(item.resource, FlinkDeployment):
            message = f"invalid name {name!r}: {NAME_RULE}"
        else:
            message = (
                f"invalid name {name!r}: must be a DNS subdomain (lower case, digits, '-', '.')"
            )
        problems.append(item.problem("metadata.name", message))
    if not valid_namespace(namespace):
        message = f"invalid namespace {namespace!r}: must be a DNS label (lower case, digits, '-')"
        problems.append(item.problem("metadata.namespace", message))
    return problems


def _deployment(item: Desired, deployment: FlinkDeployment) -> list[Problem]:
    spec = deployment.spec
    conf = spec.flink_configuration
    problems: list[Problem] = []
    if spec.flink_version is None:
        supported = ", ".join(v.value for v in FlinkVersion if not v.deprecated)
        problems.append(item.problem("spec.flinkVersion", f"required; one of {supported}"))
    for key in FORBIDDEN_KEYS:
        if key in conf:
            message = "forbidden: the operator sets this key from the resource name and namespace"
            problems.append(item.problem(f"{CONFIG}.{key}", message))
    if spec.job_manager.replicas > 1 and not ha_enabled(conf):
        message = "standby JobManagers need high availability (set high-availability.type)"
        problems.append(item.problem("spec.jobManager.replicas", message))
    if _true(conf.get(HEALTH_CHECK)) and _false(conf.get(JM_RECOVERY)):
        message = f"the cluster health check needs {JM_RECOVERY} enabled"
        problems.append(item.problem(f"{CONFIG}.{HEALTH_CHECK}", message))
    for key in spec.log_configuration or {}:
        if key not in LOG_CONFIG_FILES:
            message = f"unknown log configuration file; allowed: {', '.join(LOG_CONFIG_FILES)}"
            problems.append(item.problem(f"spec.logConfiguration.{key}", message))
    problems += ingress_problems(item, spec.ingress)
    problems += resource_problems(item, spec)
    problems += autoscaler_problems(item, conf)
    if spec.job is not None:
        scaled_by_replicas = spec.task_manager.replicas is not None
        problems += _job(item, spec.job, conf, parallelism_required=not scaled_by_replicas)
    return problems


def _job(
    item: Desired, job: JobSpec, conf: Mapping[str, Any], *, parallelism_required: bool
) -> list[Problem]:
    """Job rules shared by application deployments and session jobs (effective configuration)."""
    problems: list[Problem] = []
    mode = job.upgrade_mode
    # Upstream no longer requires HA for last-state: the operator finds the latest checkpoint
    # itself, so only a checkpoint directory is needed.
    if mode is not UpgradeMode.STATELESS and not _set(conf, CHECKPOINT_DIR_KEYS):
        message = f"{mode.value} needs a checkpoint directory: set {_either(CHECKPOINT_DIR_KEYS)}"
        problems.append(item.problem("spec.job.upgradeMode", message))
    if not _set(conf, SAVEPOINT_DIR_KEYS):
        needs = _either(SAVEPOINT_DIR_KEYS)
        if mode is UpgradeMode.SAVEPOINT:
            message = f"savepoint upgrades need a savepoint directory: set {needs}"
            problems.append(item.problem("spec.job.upgradeMode", message))
        if job.savepoint_trigger_nonce is not None:
            message = f"manual savepoints need a savepoint directory: set {needs}"
            problems.append(item.problem("spec.job.savepointTriggerNonce", message))
        if PERIODIC_SAVEPOINT in conf:
            message = f"periodic savepoints need a savepoint directory: set {needs}"
            problems.append(item.problem(f"{CONFIG}.{PERIODIC_SAVEPOINT}", message))
        if conf.get(CHECKPOINT_MAX_AGE) is not None:
            message = f"the checkpoint age limit falls back to savepoints: set {needs}"
            problems.append(item.problem(f"{CONFIG}.{CHECKPOINT_MAX_AGE}", message))
    if job.parallelism == 0:
        # A deployment with taskManager.replicas reads 0 as unset (model.resources).
        message = "must be greater than 0, got 0 (0 means unset only next to taskManager.replicas)"
        problems.append(item.problem("spec.job.parallelism", message))
    elif parallelism_required and job.parallelism is None:
        message = "required (> 0) unless spec.taskManager.replicas is set"
        problems.append(item.problem("spec.job.parallelism", message))
    if job.savepoint_redeploy_nonce is not None and not (job.initial_savepoint_path or "").strip():
        message = "savepoint redeployment needs spec.job.initialSavepointPath to restore from"
        problems.append(item.problem("spec.job.savepointRedeployNonce", message))
    return problems


def _session_job(
    item: Desired,
    session_job: FlinkSessionJob,
    deployments: Mapping[ResourceId, Desired],
    broken: Collection[ResourceId],
) -> list[Problem]:
    spec = session_job.spec
    problems: list[Problem] = []
    name = spec.deployment_name
    if not valid_name(Kind.FLINK_DEPLOYMENT, name):
        problems.append(item.problem("spec.deploymentName", f"invalid name {name!r}: {NAME_RULE}"))
    cluster_id = ResourceId(Kind.FLINK_DEPLOYMENT, item.id.namespace, name)
    cluster = deployments.get(cluster_id)
    where = "spec.deploymentName"
    if cluster is None:
        if cluster_id in broken:
            message = f"session cluster {cluster_id.short} has errors of its own (see above)"
        else:
            message = f"no FlinkDeployment {name!r} in namespace {item.id.namespace!r}"
        return [*problems, item.problem(where, message)]
    assert isinstance(cluster.resource, FlinkDeployment)
    if not cluster.resource.spec.is_session_cluster:
        message = (
            f"FlinkDeployment {cluster_id.short} runs its own job (application mode); "
            "session jobs need a session cluster (no spec.job)"
        )
        return [*problems, item.problem(where, message)]
    effective = {**cluster.resource.spec.flink_configuration, **spec.flink_configuration}
    problems += autoscaler_problems(item, effective)
    return problems + _job(item, spec.job, effective, parallelism_required=True)


def _artifact(item: Desired, job: JobSpec | None, policy: ArtifactPolicy) -> list[Problem]:
    """gitflink fetches and uploads job jars itself: only what the agent's policy allows. A
    session job needs one; an application may leave it to its image."""
    uri = job.jar_uri if job is not None else None
    if uri is None:
        if isinstance(item.resource, FlinkSessionJob):
            return [item.problem("spec.job.jarURI", "required: the jar gitflink submits")]
        return []
    refused = artifact_rules.refusal(uri, policy)
    return [item.problem("spec.job.jarURI", refused)] if refused else []


def _snapshot(
    item: Desired,
    snapshot: FlinkStateSnapshot,
    desired: Sequence[Desired],
    broken: Collection[ResourceId],
) -> list[Problem]:
    spec = snapshot.spec
    if spec.savepoint is not None and spec.savepoint.already_exists:
        return []  # an existing savepoint is only registered; no job is involved
    reference = spec.job_reference
    if reference is None:
        return [item.problem("spec.jobReference", "required unless savepoint.alreadyExists")]
    target = ResourceId(Kind(reference.kind), item.id.namespace, reference.name)
    if target in broken or any(d.id == target for d in desired):
        return []
    # The target may be managed outside these files, so this only warns.
    message = f"{reference.kind} {target.short} is not defined in these files"
    return [item.problem("spec.jobReference.name", message, Severity.WARNING)]


def _duplicates(desired: Sequence[Desired]) -> list[Problem]:
    first: dict[ResourceId, Desired] = {}
    problems: list[Problem] = []
    for item in sorted(desired, key=lambda d: (d.file, d.line)):
        earlier = first.setdefault(item.id, item)
        if earlier is not item:
            message = f"{item.id} is also defined in {earlier.file}:{earlier.line}"
            problems.append(item.problem("metadata.name", message))
    return problems


def ha_enabled(conf: Mapping[str, Any]) -> bool:
    """Flink's isHighAvailabilityModeActivated: any mode but NONE (ZooKeeper, Kubernetes...)."""
    for key in HA_KEYS:
        if key in conf and conf[key] is not None:
            return str(conf[key]).strip().upper() not in ("", "NONE")
    return False


def _set(conf: Mapping[str, Any], keys: Iterable[str]) -> bool:
    return any(conf.get(key) is not None and str(conf[key]).strip() for key in keys)


def _either(keys: Sequence[str]) -> str:
    return " or ".join(keys)


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _false(value: Any) -> bool:
    return value is False or str(value).strip().lower() == "false"
