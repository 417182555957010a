"""A Flink container as a local JVM command: the entrypoint arguments pick the main class, the
image tag the Flink install, and the config is the image's (conf, FLINK_PROPERTIES, -D) with
addresses and directories owned by the pod."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitflink.adapters.local_runtime import configuring
from gitflink.adapters.local_runtime.building import build_example_jars
from gitflink.adapters.local_runtime.configuring import ClusterLayout
from gitflink.adapters.local_runtime.installing import FlinkInstall, flink_install
from gitflink.model.resources import FlinkVersion
from k8s_testbed.pod_fs import PodConfigError, expand, rewrite_paths

# Entrypoint argument -> (role for memory and java opts, main class).
MAIN_CLASSES = {
    "jobmanager": (
        "jobmanager",
        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
    ),
    "taskmanager": ("taskmanager", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"),
    "standalone-job": (
        "jobmanager",
        "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint",
    ),
    "kubernetes-session": (
        "jobmanager",
        "org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint",
    ),
    "kubernetes-application": (
        "jobmanager",
        "org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint",
    ),
    "kubernetes-taskmanager": (
        "taskmanager",
        "org.apache.flink.kubernetes.taskmanager.KubernetesTaskExecutorRunner",
    ),
}
ENTRYPOINTS = {"/docker-entrypoint.sh", "docker-entrypoint.sh", "/opt/flink/docker-entrypoint.sh"}
FLINK_ROOT = "/opt/flink"
# Owned by the pod's network and directory: a value from the pod would bind elsewhere.
ADDRESS_KEYS = (
    "jobmanager.bind-host",
    "taskmanager.bind-host",
    "taskmanager.host",
    "rest.address",
    "rest.bind-address",
)


@dataclass(frozen=True)
class FlinkProcess:
    command: list[str]
    env: dict[str, str]
    cwd: Path
    install: FlinkInstall
    role: str


def flink_version(image: str) -> FlinkVersion:
    """flink:1.20, apache/flink:2.3.0-java17, flink:1.20.1-scala_2.12 -> the minor version."""
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    match = re.match(r"(\d+)\.(\d+)", tag)
    if "flink" not in name or match is None:
        raise PodConfigError(
            f"image {image!r}: the process kubelet runs Flink images tagged with a version"
        )
    try:
        return FlinkVersion(f"v{match.group(1)}_{match.group(2)}")
    except ValueError:
        raise PodConfigError(
            f"image {image!r}: Flink {match.group(0)} is not a version gitflink knows"
        ) from None


def entrypoint_mode(argv: list[str]) -> tuple[str, list[str]]:
    """The image entrypoint's mode and its remaining arguments, from command + args."""
    args = list(argv)
    if args and args[0] in ENTRYPOINTS:
        args = args[1:]
    if len(args) >= 3 and args[0] in {"bash", "/bin/bash", "sh", "/bin/sh"} and args[1] == "-c":
        args = shlex.split(args[2]) + args[3:]
    if not args:
        raise PodConfigError(
            "no entrypoint arguments: expected jobmanager, taskmanager, standalone-job "
            "or kubernetes-*.sh"
        )
    head = args[0].rsplit("/", 1)[-1]
    if (
        head == "kubernetes-jobmanager.sh"
        and len(args) > 1
        and args[1] in {"kubernetes-session", "kubernetes-application"}
    ):
        return args[1], args[2:]
    if head == "kubernetes-taskmanager.sh":
        return "kubernetes-taskmanager", args[1:]
    if head in {"jobmanager", "taskmanager", "standalone-job"}:
        rest = args[1:]
        if head == "jobmanager" and rest[:1] and not rest[0].startswith("-"):
            rest = rest[1:]  # the optional host argument: this pod's address decides
        return head, rest
    raise PodConfigError(f"entrypoint arguments {argv!r} are not a Flink image mode")


def split_dynamic(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """-D key=value / -Dkey=value arguments (folded into the config) and the others."""
    dynamic: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-D" and i + 1 < len(args):
            key, _, value = args[i + 1].partition("=")
            dynamic[key] = value
            i += 2
            continue
        if arg.startswith("-D") and "=" in arg:
            key, _, value = arg[2:].partition("=")
            dynamic[key] = value
        else:
            rest.append(arg)
        i += 1
    return dynamic, rest


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def base_config(conf_dir: Path) -> dict[str, Any]:
    """config.yaml (nested or flat) or the legacy flink-conf.yaml of the image's conf dir."""
    for name in ("config.yaml", "flink-conf.yaml"):
        path = conf_dir / name
        if path.is_file():
            return _flatten(yaml.safe_load(path.read_text()) or {})
    return {}


def _flink_properties(text: str) -> dict[str, Any]:
    return _flatten(yaml.safe_load(text) or {}) if text.strip() else {}


def flink_process(
    *,
    container: Any,
    env: dict[str, str],
    rootfs: Path,
    mounts: list[str],
    workdir: Path,
    pod_ip: str,
    resolve_host: Callable[[str], str],
    cache_dir: Path,
    blob_port: int,
) -> FlinkProcess:
    """The JVM command of one container; raises PodConfigError when it cannot run here."""
    install = flink_install(cache_dir, flink_version(container.image))
    _lay_out_flink_home(install, rootfs, cache_dir)
    prefixes = [FLINK_ROOT, *mounts]
    argv = [
        rewrite_paths(expand(a, env), prefixes, rootfs)
        for a in [*(container.command or []), *(container.args or [])]
    ]
    mode, args = entrypoint_mode(argv)
    role, main = MAIN_CLASSES[mode]
    dynamic, passthrough = split_dynamic(args)
    user = base_config(rootfs / FLINK_ROOT.lstrip("/") / "conf")
    user.update(_flink_properties(env.get("FLINK_PROPERTIES", "")))
    user.update(dynamic)
    if "JOB_MANAGER_RPC_ADDRESS" in env:
        user["jobmanager.rpc.address"] = env["JOB_MANAGER_RPC_ADDRESS"]
    user = {
        k: rewrite_paths(v, prefixes, rootfs) if isinstance(v, str) else v for k, v in user.items()
    }
    layout = ClusterLayout(workdir)
    layout.create()
    config = configuring.render_config(
        install,
        layout,
        user,
        rest_port=int(user.get("rest.port", 8081)),
        rpc_port=int(user.get("jobmanager.rpc.port", 6123)),
        slots=int(user.get("taskmanager.numberOfTaskSlots", 1)),
    )
    config.update({key: pod_ip for key in ADDRESS_KEYS})
    config["blob.server.port"] = blob_port  # reachable as localhost too: see loopback.py
    # Each pod has its own IP, so the image's fixed ports do not clash (native mode needs one).
    config["taskmanager.rpc.port"] = user.get("taskmanager.rpc.port", 6122)
    rpc_address = str(user.get("jobmanager.rpc.address", "localhost"))
    config["jobmanager.rpc.address"] = pod_ip if role == "jobmanager" else resolve_host(rpc_address)
    for key, value in user.items():
        if key.startswith(("kubernetes.", "high-availability")):
            config[key] = value  # native mode and its HA services talk to the test bed
    configuring.write_config(install, layout, config)
    java_opts = configuring.user_java_opts(user, role)
    command = configuring.jvm_command(
        install, layout, java_opts, role=role, log_name=container.name
    )
    command[-3] = main  # jvm_command ends with: main class, --configDir, <dir>
    flink_home = rootfs / FLINK_ROOT.lstrip("/")
    process_env = {
        **env,
        "FLINK_HOME": str(flink_home),
        "FLINK_CONF_DIR": str(layout.conf),
        "HOME": str(workdir),
    }
    return FlinkProcess([*command, *passthrough], process_env, workdir, install, role)


def _lay_out_flink_home(install: FlinkInstall, rootfs: Path, cache_dir: Path) -> None:
    """/opt/flink of the image: the install's directories, except what the pod mounts there."""
    home = rootfs / FLINK_ROOT.lstrip("/")
    home.mkdir(parents=True, exist_ok=True)
    (home / "usrlib").mkdir(exist_ok=True)
    for name in ("bin", "lib", "opt", "plugins", "conf"):
        source, link = install.home / name, home / name
        if source.exists() and not link.exists() and not link.is_symlink():
            link.symlink_to(source)
    # The example jars gitflink's FlinkDeployments name (local:///opt/flink/examples/streaming/).
    streaming = home / "examples" / "streaming"
    if not streaming.is_symlink():
        streaming.parent.mkdir(exist_ok=True)
        streaming.symlink_to(build_example_jars(cache_dir, install))
