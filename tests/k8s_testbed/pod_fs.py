"""A pod's volumes as files (`<pod dir>/volumes/<name>/`, symlinked into each container's
rootfs), its containers' environment, and container paths rewritten into the rootfs."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes.client as k8s
from kubernetes.client.rest import ApiException


class PodConfigError(Exception):
    """The pod cannot start as written (a missing ConfigMap key, an unsupported volume...)."""


def _write(directory: Path, files: Mapping[str, bytes], mode: int | None) -> None:
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode if mode is not None else 0o644)


def _select(
    data: Mapping[str, bytes], items: list[Any] | None, what: str, optional: bool
) -> dict[str, bytes]:
    if not items:
        return dict(data)
    chosen = {}
    for item in items:
        if item.key not in data:
            if optional:
                continue
            raise PodConfigError(f"{what} has no key {item.key!r}")
        chosen[item.path] = data[item.key]
    return chosen


def _config_map(core: k8s.CoreV1Api, namespace: str, name: str, optional: bool) -> dict[str, bytes]:
    try:
        cm = core.read_namespaced_config_map(name, namespace)
    except ApiException as error:
        if error.status == 404 and optional:
            return {}
        raise PodConfigError(f'configmap "{name}" not found') from error
    data = {k: v.encode() for k, v in (cm.data or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (cm.binary_data or {}).items()})
    return data


def _secret(core: k8s.CoreV1Api, namespace: str, name: str, optional: bool) -> dict[str, bytes]:
    try:
        secret = core.read_namespaced_secret(name, namespace)
    except ApiException as error:
        if error.status == 404 and optional:
            return {}
        raise PodConfigError(f'secret "{name}" not found') from error
    return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}


def field_value(pod: k8s.V1Pod, path: str, pod_ip: str) -> str:
    """The downward API: metadata.name, status.podIP, metadata.labels['app'], ..."""
    meta = pod.metadata
    simple = {
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.podIP": pod_ip,
        "status.hostIP": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path] or "")
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        values = (meta.labels if match.group(1) == "labels" else meta.annotations) or {}
        return str(values.get(match.group(2), ""))
    raise PodConfigError(f"unsupported fieldRef {path!r}")


def materialize_volumes(
    core: k8s.CoreV1Api, pod: k8s.V1Pod, pod_dir: Path, pod_ip: str
) -> dict[str, Path]:
    """Write every volume of the pod; returns volume name -> directory."""
    namespace = pod.metadata.namespace
    paths = {}
    for volume in pod.spec.volumes or []:
        target = pod_dir / "volumes" / volume.name
        target.mkdir(parents=True, exist_ok=True)
        if volume.config_map is not None:
            src = volume.config_map
            files = _config_map_files(core, namespace, src.name, src)
            _write(target, files, src.default_mode)
        elif volume.secret is not None:
            src = volume.secret
            _write(target, _secret_files(core, namespace, src.secret_name, src), src.default_mode)
        elif volume.projected is not None:
            _projected(core, pod, volume.projected, target, pod_ip)
        elif volume.downward_api is not None:
            files = _downward_files(pod, volume.downward_api, pod_ip)
            _write(target, files, volume.downward_api.default_mode)
        elif volume.empty_dir is None:
            kind = next(k for k, v in volume.to_dict().items() if k != "name" and v is not None)
            raise PodConfigError(
                f"volume {volume.name!r}: {kind} volumes are not supported by the process kubelet"
            )
        paths[volume.name] = target
    return paths


def _config_map_files(
    core: k8s.CoreV1Api, namespace: str, name: str, src: Any
) -> Mapping[str, bytes]:
    """The files a ConfigMap volume or projection shows (its `items`, or every key)."""
    data = _config_map(core, namespace, name, bool(src.optional))
    return _select(data, src.items, f"configmap {name}", bool(src.optional))


def _secret_files(core: k8s.CoreV1Api, namespace: str, name: str, src: Any) -> Mapping[str, bytes]:
    data = _secret(core, namespace, name, bool(src.optional))
    return _select(data, src.items, f"secret {name}", bool(src.optional))


def _downward_files(pod: k8s.V1Pod, downward: Any, pod_ip: str) -> dict[str, bytes]:
    return {
        i.path: field_value(pod, i.field_ref.field_path, pod_ip).encode()
        for i in downward.items or []
    }


def _projected(
    core: k8s.CoreV1Api, pod: k8s.V1Pod, projected: Any, target: Path, pod_ip: str
) -> None:
    namespace = pod.metadata.namespace
    for source in projected.sources or []:
        if source.config_map is not None:
            src = source.config_map
            files = _config_map_files(core, namespace, src.name, src)
            _write(target, files, projected.default_mode)
        elif source.secret is not None:
            src = source.secret
            _write(target, _secret_files(core, namespace, src.name, src), projected.default_mode)
        elif source.downward_api is not None:
            files = _downward_files(pod, source.downward_api, pod_ip)
            _write(target, files, projected.default_mode)
        elif source.service_account_token is not None:
            token = source.service_account_token
            request = k8s.AuthenticationV1TokenRequest(
                spec=k8s.V1TokenRequestSpec(
                    audiences=[token.audience] if token.audience else [],
                    expiration_seconds=token.expiration_seconds or 3600,
                    bound_object_ref=k8s.V1BoundObjectReference(
                        kind="Pod", api_version="v1", name=pod.metadata.name, uid=pod.metadata.uid
                    ),
                )
            )
            account = pod.spec.service_account_name or "default"
            issued = core.create_namespaced_service_account_token(account, namespace, request)
            _write(target, {token.path: issued.status.token.encode()}, projected.default_mode)


def mount(container: k8s.V1Container, volumes: Mapping[str, Path], rootfs: Path) -> list[str]:
    """Symlink each volumeMount into the container's rootfs; returns the mount paths."""
    mounted = []
    for volume_mount in container.volume_mounts or []:
        source = volumes.get(volume_mount.name)
        if source is None:
            raise PodConfigError(f"volumeMount {volume_mount.name!r} names no volume of the pod")
        if volume_mount.sub_path:
            source = source / volume_mount.sub_path
        link = rootfs / volume_mount.mount_path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)
        mounted.append(volume_mount.mount_path.rstrip("/"))
    return mounted


def container_env(
    core: k8s.CoreV1Api, pod: k8s.V1Pod, container: k8s.V1Container, pod_ip: str
) -> dict[str, str]:
    """env and envFrom resolved like the kubelet: later entries win, $(VAR) expands."""
    namespace = pod.metadata.namespace
    env: dict[str, str] = {}
    for source in container.env_from or []:
        prefix = source.prefix or ""
        if source.config_map_ref is not None:
            data = _config_map(
                core, namespace, source.config_map_ref.name, bool(source.config_map_ref.optional)
            )
        else:
            data = _secret(
                core, namespace, source.secret_ref.name, bool(source.secret_ref.optional)
            )
        env.update({prefix + k: v.decode() for k, v in data.items()})
    for var in container.env or []:
        if var.value_from is None:
            env[var.name] = expand(var.value or "", env)
            continue
        ref = var.value_from
        if ref.field_ref is not None:
            env[var.name] = field_value(pod, ref.field_ref.field_path, pod_ip)
        elif ref.config_map_key_ref is not None:
            key = ref.config_map_key_ref
            data = _config_map(core, namespace, key.name, bool(key.optional))
            if key.key in data:
                env[var.name] = data[key.key].decode()
            elif not key.optional:
                raise PodConfigError(f"env {var.name}: configmap {key.name} has no key {key.key!r}")
        elif ref.secret_key_ref is not None:
            key = ref.secret_key_ref
            data = _secret(core, namespace, key.name, bool(key.optional))
            if key.key in data:
                env[var.name] = data[key.key].decode()
            elif not key.optional:
                raise PodConfigError(f"env {var.name}: secret {key.name} has no key {key.key!r}")
        elif ref.resource_field_ref is not None:
            env[var.name] = "1"  # no cgroup limits here: a nominal value
    return env


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) references; $$(VAR) escapes, unknown names stay as written."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        text,
    )


def rewrite_paths(text: str, prefixes: list[str], rootfs: Path) -> str:
    """Container paths (/opt/flink/..., mount paths) to where they are under the rootfs."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(prefix)}(?=/|$|[^\w.-])", str(rootfs) + prefix, text)
    return text
