"""What Flink's pods may do in the API server: native mode creates TaskManager pods and HA keeps
leader and job state in ConfigMaps, each needing a Role bound to the pods' service account."""

from __future__ import annotations

from typing import Any

from gitflink.model.resources import FlinkDeployment

ALL = ["get", "list", "watch", "create", "update", "patch", "delete"]


def service_account_name(deployment: FlinkDeployment, needs_role: bool) -> str | None:
    """The spec's serviceAccount (shared, managed by people: never rendered), else a service
    account of the resource's own when it needs a Role, else the namespace default."""
    if deployment.spec.service_account:
        return deployment.spec.service_account
    return f"{deployment.metadata.name}-flink" if needs_role else None


def rules(native: bool, ha: bool) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    if native:
        # The JobManager's resource manager creates, watches and deletes its TaskManager pods,
        # and reads its own Deployment to make it their owner.
        result.append({"apiGroups": [""], "resources": ["pods"], "verbs": ALL})
        result.append(
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}
        )
        result.append(
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]}
        )
    if native or ha:
        # HA leader election and job metadata live in ConfigMaps (Flink's Kubernetes HA).
        result.append({"apiGroups": [""], "resources": ["configmaps"], "verbs": ALL})
        result.append({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ALL})
    return result


def objects(
    deployment: FlinkDeployment, *, native: bool, ha: bool, labels: dict[str, str]
) -> list[dict[str, Any]]:
    if not (native or ha):
        return []
    namespace = deployment.metadata.namespace
    account = service_account_name(deployment, needs_role=True)
    assert account is not None
    role_name = f"{deployment.metadata.name}-flink"
    meta = {"name": role_name, "namespace": namespace, "labels": dict(labels)}
    result: list[dict[str, Any]] = []
    if not deployment.spec.service_account:
        result.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)})
    result.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": dict(meta),
            "rules": rules(native, ha),
        }
    )
    result.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": dict(meta),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": role_name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        }
    )
    return result
