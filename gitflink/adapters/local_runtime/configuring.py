"""The Flink configuration and JVM command lines of a local cluster.

The user's flinkConfiguration is merged in, except keys the runtime must own (ports, addresses,
directories, memory); non-local state directories are replaced by the cluster's own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflink.adapters.local_runtime.installing import FlinkInstall
from gitflink.model.flinkconf import config_file_name, config_file_text

log = logging.getLogger(__name__)

# Flink 1.17+ on Java 17 needs these (IllegalAccessError without them); shipped confs have them.
JAVA17_OPTS = [
    f"--add-exports={m}=ALL-UNNAMED"
    for m in (
        "java.base/sun.net.util",
        "java.rmi/sun.rmi.registry",
        "jdk.compiler/com.sun.tools.javac.api",
        "jdk.compiler/com.sun.tools.javac.file",
        "jdk.compiler/com.sun.tools.javac.parser",
        "jdk.compiler/com.sun.tools.javac.tree",
        "jdk.compiler/com.sun.tools.javac.util",
        "java.security.jgss/sun.security.krb5",
    )
] + [
    f"--add-opens=java.base/{p}=ALL-UNNAMED"
    for p in (
        "java.lang",
        "java.net",
        "java.io",
        "java.nio",
        "sun.nio.ch",
        "java.lang.reflect",
        "java.text",
        "java.time",
        "java.util",
        "java.util.concurrent",
        "java.util.concurrent.atomic",
        "java.util.concurrent.locks",
    )
]
# Short-lived small JVMs start ~2x faster with C1 only and the serial collector.
FAST_JVM_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]

# Memory: every component explicit, so the JVMs can start without BashJavaUtils (which the
# scripts run twice per process, 3-4 s on 2 cores). Sizes in MiB; they add up to process.size.
JM_MEMORY = {"process": 512, "heap": 192, "off-heap": 128, "metaspace": 128, "overhead": 64}
TM_MEMORY = {
    "process": 640,
    "framework.heap": 64,
    "task.heap": 224,
    "framework.off-heap": 64,
    "task.off-heap": 0,
    "managed": 32,
    "network": 64,
    "metaspace": 128,
    "overhead": 64,
}

OWNED_PREFIXES = (
    "rest.",
    "jobmanager.rpc.",
    "jobmanager.bind-host",
    "taskmanager.bind-host",
    "taskmanager.host",
    "taskmanager.rpc.",
    "taskmanager.data.port",
    "blob.server.port",
    "metrics.internal.query-service.port",
    "web.upload.dir",
    "io.tmp.dirs",
    "blob.storage.directory",
    "process.",
    "jobmanager.memory.",
    "taskmanager.memory.",
    "taskmanager.cpu.cores",
    "env.java.home",
    "env.log.dir",
    "env.pid.dir",
    "high-availability",
)
STATE_DIR_KEYS = (
    "state.savepoints.dir",
    "execution.checkpointing.savepoint-dir",
    "state.checkpoints.dir",
    "execution.checkpointing.dir",
)


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """The directories of one cluster under `<data_dir>/clusters/<namespace>/<name>/`."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def upload(self) -> Path:
        return self.root / "upload"

    @property
    def blob(self) -> Path:
        return self.root / "blob"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def savepoints(self) -> Path:
        return self.root / "savepoints"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def create(self) -> None:
        for name in ("conf", "log", "tmp", "upload", "blob", "work", "savepoints", "checkpoints"):
            (self.root / name).mkdir(parents=True, exist_ok=True)


def is_local_uri(value: str) -> bool:
    return value.startswith(("file:", "/"))


def file_uri(path: Path) -> str:
    return f"file://{path}"


def render_config(
    install: FlinkInstall,
    layout: ClusterLayout,
    user_config: Mapping[str, Any],
    *,
    rest_port: int,
    rpc_port: int,
    slots: int,
) -> dict[str, Any]:
    """The full flat configuration of the cluster."""
    config: dict[str, Any] = {
        "parallelism.default": 1,
        "web.refresh-interval": 200,  # REST job details are cached this long (default 3 s)
        "metrics.fetcher.update-interval": 1000,
        "cluster.registration.error-delay": 1000,  # else a TM that beats the RM waits 10 s
        # last-state upgrades start from the latest checkpoint: keep it when a job is cancelled.
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "state.checkpoints.dir": file_uri(layout.checkpoints),
        "execution.checkpointing.dir": file_uri(layout.checkpoints),
        "state.savepoints.dir": file_uri(layout.savepoints),
        "execution.checkpointing.savepoint-dir": file_uri(layout.savepoints),
    }
    for key, value in user_config.items():
        if key.startswith(OWNED_PREFIXES) or key.startswith("env.java.opts"):
            if not key.startswith("env.java.opts"):
                log.info("local runtime owns %s; the value in the spec is not used", key)
            continue
        if key in STATE_DIR_KEYS and not is_local_uri(str(value)):
            log.info(
                "%s is not a local path; the local runtime keeps state in %s", key, layout.root
            )
            continue
        config[key] = value
    config.update(
        {
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.rpc.port": rpc_port,
            "jobmanager.bind-host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.host": "127.0.0.1",
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",  # else REST listens on every interface
            "rest.port": rest_port,
            "taskmanager.numberOfTaskSlots": slots,
            "taskmanager.cpu.cores": float(slots),
            "web.upload.dir": str(layout.upload),
            "io.tmp.dirs": str(layout.tmp),
            "blob.storage.directory": str(layout.blob),
            "process.working-dir": str(layout.work),
            **_memory_config(),
        }
    )
    return config


def _memory_config() -> dict[str, str]:
    jm, tm = JM_MEMORY, TM_MEMORY
    config = {
        "jobmanager.memory.process.size": f"{jm['process']}m",
        "jobmanager.memory.heap.size": f"{jm['heap']}m",
        "jobmanager.memory.off-heap.size": f"{jm['off-heap']}m",
        "jobmanager.memory.jvm-metaspace.size": f"{jm['metaspace']}m",
        "jobmanager.memory.jvm-overhead.min": f"{jm['overhead']}m",
        "jobmanager.memory.jvm-overhead.max": f"{jm['overhead']}m",
        "taskmanager.memory.process.size": f"{tm['process']}m",
        "taskmanager.memory.network.min": f"{tm['network']}m",
        "taskmanager.memory.network.max": f"{tm['network']}m",
        "taskmanager.memory.managed.size": f"{tm['managed']}m",
        "taskmanager.memory.jvm-metaspace.size": f"{tm['metaspace']}m",
        "taskmanager.memory.jvm-overhead.min": f"{tm['overhead']}m",
        "taskmanager.memory.jvm-overhead.max": f"{tm['overhead']}m",
    }
    for part in ("framework.heap", "task.heap", "framework.off-heap", "task.off-heap"):
        config[f"taskmanager.memory.{part}.size"] = f"{tm[part]}m"
    return config


def write_config(install: FlinkInstall, layout: ClusterLayout, config: Mapping[str, Any]) -> Path:
    """Write conf/ (config.yaml on 1.19+, flink-conf.yaml before) plus the logging files."""
    for pattern in ("log4j*.properties", "logback*.xml"):
        for source in (install.home / "conf").glob(pattern):
            (layout.conf / source.name).write_bytes(source.read_bytes())
    legacy = install.major_minor < (1, 19)
    path = layout.conf / config_file_name(legacy)
    # The configuration holds the manifest's real secrets: readable by this user only, like
    # the status files, from the moment it exists (never world-readable, even briefly).
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(config_file_text(config, legacy))
    return path


def user_java_opts(user_config: Mapping[str, Any], role: str) -> list[str]:
    """The spec's env.java.opts.* for a role: the scripts would add these, so we do too."""
    opts: list[str] = []
    for key in ("env.java.opts.all", "env.java.opts", f"env.java.opts.{role}"):
        if key in user_config:
            opts += str(user_config[key]).split()
    return opts


def jvm_command(
    install: FlinkInstall,
    layout: ClusterLayout,
    java_opts: Sequence[str],
    *,
    role: str,  # "jobmanager" or "taskmanager"
    log_name: str,
) -> list[str]:
    if role == "jobmanager":
        memory = [
            f"-Xmx{JM_MEMORY['heap']}m",
            f"-Xms{JM_MEMORY['heap']}m",
            f"-XX:MaxMetaspaceSize={JM_MEMORY['metaspace']}m",
        ]
        main = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
    else:
        heap = TM_MEMORY["framework.heap"] + TM_MEMORY["task.heap"]
        direct = TM_MEMORY["framework.off-heap"] + TM_MEMORY["task.off-heap"] + TM_MEMORY["network"]
        memory = [
            f"-Xmx{heap}m",
            f"-Xms{heap}m",
            f"-XX:MaxDirectMemorySize={direct}m",
            f"-XX:MaxMetaspaceSize={TM_MEMORY['metaspace']}m",
        ]
        main = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
    log4j = layout.conf / "log4j.properties"
    return [
        "java",
        *FAST_JVM_OPTS,
        *memory,
        *JAVA17_OPTS,
        *java_opts,
        f"-Djava.io.tmpdir={layout.tmp}",
        f"-Dlog.file={layout.log / (log_name + '.log')}",
        f"-Dlog4j.configuration=file:{log4j}",
        f"-Dlog4j.configurationFile=file:{log4j}",
        f"-Dlogback.configurationFile=file:{layout.conf / 'logback.xml'}",
        "-classpath",
        install.classpath(),
        main,
        "--configDir",
        str(layout.conf),
    ]
