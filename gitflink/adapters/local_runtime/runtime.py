"""LocalRuntime: the FlinkRuntime port on this machine, one standalone cluster per FlinkDeployment.

Clusters outlive the gitflink process; a new LocalRuntime adopts them from their state files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gitflink.adapters.local_runtime import (
    building,
    checkpoints,
    cluster,
    configuring,
    installing,
)
from gitflink.adapters.local_runtime.cluster import ClusterState
from gitflink.adapters.local_runtime.configuring import ClusterLayout
from gitflink.adapters.local_runtime.installing import FlinkInstall, file_lock
from gitflink.model.errors import ClusterError
from gitflink.model.flink import JobStart
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.resources import FlinkDeploymentSpec, FlinkVersion
from gitflink.model.status import Snapshot
from gitflink.ports import ClusterHandle

log = logging.getLogger(__name__)

START_ATTEMPTS = 3
SESSION_SLOTS = 4  # a bare session cluster gets room for a few small session jobs
# The JVMs get a minimal environment: nothing of ours (tokens, passwords) leaks into them.
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


class LocalRuntime:
    """Implements gitflink.ports.FlinkRuntime with Flink JVMs bound to 127.0.0.1."""

    def __init__(
        self,
        data_dir: Path,
        cache_dir: Path,
        flink_home: Path | None = None,
        *,
        ready_timeout: float = cluster.READY_TIMEOUT,
        free_port: Callable[[], int] = cluster.free_port,
        owner: str = "",
    ) -> None:
        """`owner`: the status store this runtime acts for; clusters another one started are
        refused (the empty owner, for `gitflink local`, manages any)."""
        self.data_dir = data_dir
        self.owner = owner
        self.cache_dir = cache_dir
        self.flink_home = flink_home
        self.ready_timeout = ready_timeout
        self._free_port = free_port

    # -- the port -------------------------------------------------------------------------------

    def ensure_cluster(
        self, resource: ResourceId, spec: FlinkDeploymentSpec, *, revision: str | None = None
    ) -> ClusterHandle:
        layout = self._layout(resource)  # first: refuses an invalid id before any work
        install = installing.flink_install(self.cache_dir, spec.flink_version, self.flink_home)
        user_config = dict(spec.flink_configuration)
        fingerprint = _fingerprint(install, user_config)
        with self._lock(resource):
            state = self._adopt(layout)
            self._refuse_foreign(resource, ClusterState.load(layout.state_file))
            if state is not None and not state.owner and self.owner:
                state = replace(state, owner=self.owner)  # recorded before owners were
                state.save(layout.state_file)
            if state is not None and state.fingerprint != fingerprint:
                self._replace_changed(state)
                state = None
            if state is None:
                state = self._start_fresh_ports(
                    resource,
                    layout=layout,
                    install=install,
                    user_config=user_config,
                    spec=spec,
                    fingerprint=fingerprint,
                )
            wanted = _taskmanagers(spec, state.slots_per_tm)
            if len(state.tm_pids) < wanted:
                state = self._add_taskmanagers(state, layout, install, wanted)
        return _handle(resource, state)

    def find_cluster(self, resource: ResourceId) -> ClusterHandle | None:
        if not is_valid(resource):
            return None  # never started, so never there; and no path is built from it
        layout = self._layout(resource)
        recorded = ClusterState.load(layout.state_file)
        state = self._adopt(layout)
        if state is None or recorded is None:
            return None
        handle = _handle(resource, state)
        if self._foreign(state):
            return replace(handle, foreign=self._foreign(state))
        if len(state.tm_pids) < len(recorded.tm_pids):
            lost = f"{len(state.tm_pids)} of {len(recorded.tm_pids)} TaskManagers running"
            handle = replace(handle, degraded=lost)
        return handle

    def latest_checkpoint(self, resource: ResourceId, job_id: str) -> Snapshot | None:
        if not is_valid(resource):
            return None
        state = ClusterState.load(self._layout(resource).state_file)
        return checkpoints.latest(state.checkpoint_dir, job_id) if state else None

    def delete_cluster(self, resource: ResourceId, *, keep_ha: bool = True) -> None:
        """Stop every process by pid; keep savepoints and checkpoints, drop the rest (local
        clusters keep no HA metadata of their own: `keep_ha` changes nothing)."""
        if not is_valid(resource):
            return  # as find_cluster: there is nothing to delete
        layout = self._layout(resource)
        with self._lock(resource):
            state = ClusterState.load(layout.state_file)
            self._refuse_foreign(resource, state)
            if state is not None:
                cluster.stop_pids(state.pids, state.marker)
                log.info("stopped %s (pids %s)", resource.short, list(state.pids))
            if layout.root.is_dir():
                for child in layout.root.iterdir():
                    if child.name in {"savepoints", "checkpoints"}:
                        continue
                    if child.is_dir():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)

    def list_clusters(self) -> Sequence[ClusterHandle]:
        return [
            _handle(_resource(state), state) for state, alive in self.cluster_records() if alive
        ]

    def cluster_records(self) -> list[tuple[ClusterState, bool]]:
        """Every recorded cluster, running or not (for `gitflink local list`)."""
        records = []
        for path in sorted((self.data_dir / "clusters").glob("*/*/cluster.json")):
            state = ClusterState.load(path)
            if state is not None:
                records.append((state, self._alive(state)))
        return records

    def start_application(
        self,
        resource: ResourceId,
        spec: FlinkDeploymentSpec,
        start: JobStart,
        *,
        revision: str | None = None,
    ) -> bool:
        """Local clusters run jobs submitted over REST: the jar is on this machine anyway."""
        return False

    def resolve_jar(self, jar_uri: str, *, flink_version: FlinkVersion | None = None) -> Path:
        """local:// -> the job directory (example jars built on demand); file:// and paths as-is."""
        if jar_uri.startswith(("http://", "https://")):
            raise ClusterError(f"{jar_uri}: the local runtime cannot download jars; use a path")
        if jar_uri.startswith("local://"):
            return self._resolve_local(jar_uri, flink_version)
        if "://" in jar_uri and not jar_uri.startswith("file://"):
            raise ClusterError(f"{jar_uri}: unsupported scheme for the local runtime")
        path = Path(jar_uri.removeprefix("file://"))
        if not path.is_file():
            raise ClusterError(f"jar {jar_uri} not found ({path})")
        return path

    # -- internals ------------------------------------------------------------------------------

    def _layout(self, resource: ResourceId) -> ClusterLayout:
        return ClusterLayout(self._inside(resource, resource.namespace, resource.name))

    def _lock(self, resource: ResourceId) -> Any:
        return file_lock(
            self._inside(resource, ".locks", f"{resource.namespace}.{resource.name}.lock")
        )

    def _inside(self, resource: ResourceId, *parts: str) -> Path:
        """`<data_dir>/clusters/<parts>`, refused for an id that fails validation: a crafted
        namespace must never reach another cluster's directory or leave the data dir."""
        root = self.data_dir / "clusters"
        path = root.joinpath(*parts)
        inside = os.path.commonpath([str(root), os.path.normpath(path)]) == str(root)
        if not is_valid(resource) or not inside:
            raise ClusterError(f"{resource!r}: not a valid resource id; no cluster path for it")
        return path

    def _foreign(self, state: ClusterState) -> str | None:
        if not self.owner or not state.owner or state.owner == self.owner:
            return None
        return (
            f"the cluster is managed by another status store ({state.owner}), not by this one "
            f"({self.owner}): one cluster has one status store. Keep using that store, or stop "
            "the cluster (`gitflink local stop`) so this one can start it again"
        )

    def _refuse_foreign(self, resource: ResourceId, state: ClusterState | None) -> None:
        why = self._foreign(state) if state is not None else None
        if why is not None:
            raise ClusterError(f"{resource.short}: {why}")

    def _alive(self, state: ClusterState) -> bool:
        if not cluster.pid_alive(state.jm_pid, state.marker):
            return False
        return cluster.rest_overview(state.rest_url) is not None

    def _adopt(self, layout: ClusterLayout) -> ClusterState | None:
        """The recorded cluster if its JobManager runs and answers; dead TaskManagers dropped."""
        state = ClusterState.load(layout.state_file)
        if state is None or not self._alive(state):
            return None
        alive_tms = tuple(p for p in state.tm_pids if cluster.pid_alive(p, state.marker))
        return replace(state, tm_pids=alive_tms) if alive_tms != state.tm_pids else state

    def _replace_changed(self, state: ClusterState) -> None:
        overview = cluster.rest_overview(state.rest_url) or {}
        if int(overview.get("jobs-running", 0)) > 0:
            raise ClusterError(
                f"{state.namespace}/{state.name}: Flink version or configuration changed while "
                "jobs run; stop the jobs before the cluster can be replaced"
            )
        log.info("%s/%s: configuration changed, replacing the cluster", state.namespace, state.name)
        cluster.stop_pids(state.pids, state.marker)

    def _start_fresh_ports(self, resource: ResourceId, **start: Any) -> ClusterState:
        """A free port is only free until someone binds it: on a bind failure, new ports."""
        for attempt in range(1, START_ATTEMPTS):
            try:
                return self._start(resource, **start)
            except cluster.PortTaken:
                log.warning(
                    "%s: a port was taken during start-up (try %d)", resource.short, attempt
                )
        return self._start(resource, **start)

    def _start(
        self,
        resource: ResourceId,
        *,
        layout: ClusterLayout,
        install: FlinkInstall,
        user_config: dict[str, Any],
        spec: FlinkDeploymentSpec,
        fingerprint: str,
    ) -> ClusterState:
        stale = ClusterState.load(layout.state_file)
        if stale is not None:  # half-dead leftovers of an earlier run: ours, by pid
            cluster.stop_pids(stale.pids, stale.marker)
        layout.create()
        slots = _slots(spec)
        config = configuring.render_config(
            install,
            layout,
            user_config,
            rest_port=self._free_port(),
            rpc_port=self._free_port(),
            slots=slots,
        )
        configuring.write_config(install, layout, config)
        java_opts = {
            role: tuple(configuring.user_java_opts(user_config, role))
            for role in ("jobmanager", "taskmanager")
        }
        jm_pid = self._spawn(install, layout, java_opts["jobmanager"], "jobmanager", 0)
        state = ClusterState(
            namespace=resource.namespace,
            name=resource.name,
            root=str(layout.root),
            version=install.version,
            flink_home=str(install.home),
            rest_port=int(config["rest.port"]),
            rpc_port=int(config["jobmanager.rpc.port"]),
            slots_per_tm=slots,
            fingerprint=fingerprint,
            jm_pid=jm_pid,
            java_opts=java_opts,
            savepoint_dir=str(config["execution.checkpointing.savepoint-dir"]),
            checkpoint_dir=str(config["execution.checkpointing.dir"]),
            owner=self.owner,
        )
        state.save(layout.state_file)  # pids on disk before waiting, so a crash can clean up
        log.info(
            "starting Flink %s for %s: REST %s", install.version, resource.short, state.rest_url
        )
        return self._add_taskmanagers(state, layout, install, _taskmanagers(spec, slots))

    def _add_taskmanagers(
        self, state: ClusterState, layout: ClusterLayout, install: FlinkInstall, wanted: int
    ) -> ClusterState:
        opts = state.java_opts.get("taskmanager", ())
        # Number by the log files so far: a replacement never shares a dead TM's log.
        first = len(list(layout.log.glob("taskmanager-*.out")))
        new = tuple(
            self._spawn(install, layout, opts, "taskmanager", first + n)
            for n in range(wanted - len(state.tm_pids))
        )
        state = replace(state, tm_pids=state.tm_pids + new)
        state.save(layout.state_file)
        try:
            cluster.wait_ready(state, layout.log, self.ready_timeout)
        except ClusterError:
            cluster.stop_pids(state.pids, state.marker)
            raise
        return state

    def _spawn(
        self,
        install: FlinkInstall,
        layout: ClusterLayout,
        java_opts: Sequence[str],
        role: str,
        index: int,
    ) -> int:
        name = f"{role}-{index}"
        command = configuring.jvm_command(install, layout, java_opts, role=role, log_name=name)
        command[0] = _java()
        env = {
            **CHILD_ENV,
            "FLINK_HOME": str(install.home),
            "FLINK_CONF_DIR": str(layout.conf),
            "FLINK_LIB_DIR": str(install.home / "lib"),
            "FLINK_PLUGINS_DIR": str(install.home / "plugins"),
            "FLINK_LOG_DIR": str(layout.log),
        }
        return cluster.start_process(command, env, layout.log / f"{name}.out", layout.work)

    def _resolve_local(self, jar_uri: str, flink_version: FlinkVersion | None) -> Path:
        name = Path(jar_uri.removeprefix("local://")).name
        if flink_version is None and self.flink_home is None:
            # One jar runs on every version: compile against any Flink already installed
            # rather than installing the default one just for javac.
            install = installing.any_install(self.cache_dir)
        else:
            install = installing.flink_install(self.cache_dir, flink_version, self.flink_home)
        jobs = building.build_example_jars(self.cache_dir, install)
        if (jobs / name).is_file():
            return jobs / name
        if self.flink_home is not None:  # a real distribution may carry the file
            inside = self.flink_home / jar_uri.removeprefix("local://").removeprefix("/opt/flink/")
            if inside.is_file():
                return inside
        available = sorted(p.name for p in jobs.glob("*.jar"))
        raise ClusterError(
            f"{jar_uri}: no such jar in the local job directory {jobs} ({available})"
        )


def _handle(resource: ResourceId, state: ClusterState) -> ClusterHandle:
    return ClusterHandle(
        resource=resource,
        rest_url=state.rest_url,
        flink_version=state.version,
        pids=state.pids,
        savepoint_dir=state.savepoint_dir or None,
        checkpoint_dir=state.checkpoint_dir or None,
    )


def _resource(state: ClusterState) -> ResourceId:
    return ResourceId(Kind.FLINK_DEPLOYMENT, state.namespace, state.name)


def _slots(spec: FlinkDeploymentSpec) -> int:
    configured = spec.flink_configuration.get("taskmanager.numberOfTaskSlots")
    if configured is not None:
        return max(1, int(configured))
    if spec.job is None:
        return SESSION_SLOTS
    return max(1, _parallelism(spec))


def _parallelism(spec: FlinkDeploymentSpec) -> int:
    if spec.job is not None and spec.job.parallelism:
        return spec.job.parallelism
    return int(spec.flink_configuration.get("parallelism.default", 1))


def _taskmanagers(spec: FlinkDeploymentSpec, slots_per_tm: int) -> int:
    if spec.task_manager.replicas:
        return spec.task_manager.replicas
    if spec.job is None:
        return 1
    return max(1, math.ceil(_parallelism(spec) / slots_per_tm))


def _fingerprint(install: FlinkInstall, user_config: dict[str, Any]) -> str:
    """Changes that need a fresh cluster. Parallelism is not one: more TaskManagers join."""
    relevant = {k: v for k, v in user_config.items() if k != "parallelism.default"}
    text = json.dumps([install.version, str(install.home), relevant], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ClusterError("the local runtime needs Java 11 or 17 (`java` on PATH)")
    return os.path.realpath(java)
