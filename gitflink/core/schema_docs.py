"""Descriptions shown by editors and `kubectl explain` for the generated schemas.

Keyed by `<ModelName>.<fieldAlias>`. A description declared on the model field itself wins.
"""

from __future__ import annotations

_UPGRADE = "Changing it restarts the job per upgradeMode."

FIELD_DESCRIPTIONS: dict[str, str] = {
    # Envelope
    "FlinkDeployment.spec": "Desired state of a Flink cluster and, when `job` is set, its job.",
    "FlinkSessionJob.spec": "A job submitted to an existing session-mode FlinkDeployment.",
    "FlinkStateSnapshot.spec": "A savepoint or checkpoint of a FlinkDeployment or session job.",
    "ObjectMeta.name": "Resource name: at most 45 characters, DNS-1035 (lower case, digits, '-').",
    "ObjectMeta.namespace": "Kubernetes namespace; 'default' when absent.",
    # FlinkDeployment
    "FlinkDeploymentSpec.image": f"Flink container image. {_UPGRADE}",
    "FlinkDeploymentSpec.imagePullPolicy": "Kubernetes image pull policy.",
    "FlinkDeploymentSpec.serviceAccount": "Kubernetes service account of the Flink pods.",
    "FlinkDeploymentSpec.flinkVersion": (
        "Flink version of the image (v1_15 ... v2_4); v1_15 to v1_18 are deprecated."
    ),
    "FlinkDeploymentSpec.flinkConfiguration": (
        "Flink configuration. Nested maps and flat dotted keys are the same settings. "
        "Changes under kubernetes.operator.* and job.autoscaler.* need no restart."
    ),
    "FlinkDeploymentSpec.logConfiguration": (
        "Logging configuration files by name (log4j-console.properties, ...)."
    ),
    "FlinkDeploymentSpec.podTemplate": "Base pod template for JobManager and TaskManager pods.",
    "FlinkDeploymentSpec.jobManager": "JobManager resources, replicas and pod template.",
    "FlinkDeploymentSpec.taskManager": "TaskManager resources, replicas and pod template.",
    "FlinkDeploymentSpec.ingress": "Ingress for the Flink web UI and REST API.",
    "FlinkDeploymentSpec.mode": "Deployment mode: native (default) or standalone.",
    "FlinkDeploymentSpec.restartNonce": f"Change to restart the cluster and job. {_UPGRADE}",
    "FlinkDeploymentSpec.job": (
        "The job of an application cluster. Leave out for a session cluster."
    ),
    "JobManagerSpec.resource": "CPU and memory of each JobManager.",
    "JobManagerSpec.resources": "Kubernetes resource requirements (requests, limits, claims).",
    "JobManagerSpec.replicas": (
        "Number of JobManagers; more than one needs high-availability.type configured."
    ),
    "JobManagerSpec.podTemplate": "Pod template merged over the base one for JobManager pods.",
    "TaskManagerSpec.resource": "CPU and memory of each TaskManager.",
    "TaskManagerSpec.resources": "Kubernetes resource requirements (requests, limits, claims).",
    "TaskManagerSpec.replicas": (
        "Number of TaskManagers (standalone mode); derived from parallelism when absent."
    ),
    "TaskManagerSpec.podTemplate": "Pod template merged over the base one for TaskManager pods.",
    "Resource.cpu": "CPU cores (may be fractional).",
    "Resource.memory": "Memory with a unit, for example 2048m or 2g.",
    "Resource.ephemeralStorage": "Ephemeral storage with a unit, for example 1Gi.",
    "IngressSpec.template": "Host/path template, for example '{{name}}.{{namespace}}.example.com'.",
    "IngressSpec.className": "Ingress class name.",
    "IngressSpec.annotations": "Annotations of the generated Ingress.",
    "IngressSpec.labels": "Labels of the generated Ingress.",
    "IngressSpec.tls": "TLS entries (hosts, secretName) of the generated Ingress.",
    # Jobs
    "JobSpec.jarURI": f"Job jar, for example local:///opt/flink/usrlib/job.jar. {_UPGRADE}",
    "JobSpec.entryClass": f"Fully qualified main class. {_UPGRADE}",
    "JobSpec.args": f"Program arguments. {_UPGRADE}",
    "JobSpec.parallelism": (
        "Job parallelism, > 0 (0 next to taskManager.replicas means unset); SCALE in standalone "
        "mode (in place with the adaptive scheduler), UPGRADE in native mode."
    ),
    "JobSpec.state": "Desired job state: running or suspended.",
    "JobSpec.upgradeMode": (
        "How state is carried across upgrades: stateless (default, state is lost), "
        "savepoint or last-state. gitflink never falls back from a stateful mode to stateless."
    ),
    "JobSpec.savepointTriggerNonce": "Change to take a savepoint now; no restart.",
    "JobSpec.checkpointTriggerNonce": "Change to take a checkpoint now; no restart.",
    "JobSpec.initialSavepointPath": "Savepoint to restore from on first deployment.",
    "JobSpec.allowNonRestoredState": "Allow a savepoint with state of removed operators.",
    "JobSpec.savepointRedeployNonce": (
        "Change to discard the current state and redeploy from initialSavepointPath."
    ),
    "JobSpec.autoscalerResetNonce": "Change to reset the autoscaler's parallelism overrides.",
    "FlinkSessionJobSpec.deploymentName": (
        "Name of the session-mode FlinkDeployment in the same namespace to run on."
    ),
    "FlinkSessionJobSpec.job": "The job to submit to the session cluster.",
    "FlinkSessionJobSpec.flinkConfiguration": "Job-level Flink configuration.",
    "FlinkSessionJobSpec.restartNonce": f"Change to restart the job. {_UPGRADE}",
    # Snapshots
    "FlinkStateSnapshotSpec.jobReference": "The job to snapshot; not needed for an existing one.",
    "FlinkStateSnapshotSpec.savepoint": "Take or register a savepoint; exclusive with checkpoint.",
    "FlinkStateSnapshotSpec.checkpoint": "Take a checkpoint; exclusive with savepoint.",
    "FlinkStateSnapshotSpec.backoffLimit": "Retries on failure; -1 retries forever.",
    "JobReference.kind": "FlinkDeployment or FlinkSessionJob.",
    "JobReference.name": "Name of the referenced resource in the same namespace.",
    "SavepointSpec.path": "Target directory, or the savepoint's path when alreadyExists.",
    "SavepointSpec.formatType": "Savepoint format: CANONICAL or NATIVE.",
    "SavepointSpec.disposeOnDelete": "Delete the savepoint files when this resource is deleted.",
    "SavepointSpec.alreadyExists": "Register an existing savepoint instead of taking one.",
    # Status
    "ResourceStatus.lifecycleState": "Where the resource is in its lifecycle (STABLE, FAILED...).",
    "ResourceStatus.jobStatus": "Last observed state of the Flink job and its snapshots.",
    "ResourceStatus.reconciliation": "Last applied and last stable spec.",
    "ResourceStatus.pending": "The change in flight (write-ahead log), if any.",
    "ResourceStatus.error": "Last error, in plain words.",
    "ResourceStatus.observedRevision": "Git revision last read.",
    "ResourceStatus.appliedRevision": "Git revision whose spec runs now.",
    "ResourceStatus.history": "Latest applied changes, newest first.",
}
