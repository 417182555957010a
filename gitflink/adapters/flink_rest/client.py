"""FlinkRest, the FlinkApi port over httpx, version aware for Flink 1.18 to 2.x.

Every call has its own timeout and runs once; failures map to one error type per kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from gitflink.adapters.flink_rest.parsing import (
    error_message,
    exceptions,
    has_exceptions,
    operation,
)
from gitflink.model.errors import FlinkHttpError, FlinkTimeout, FlinkUnreachable, SavepointFailed
from gitflink.model.flink import (
    AsyncOperation,
    CheckpointStats,
    ClusterOverview,
    JobDetails,
    JobExceptions,
    JobSummary,
    OperationState,
    RunRequest,
    Vertex,
    VertexMetric,
    flink_time,
)
from gitflink.ports import NULL_METER, Meter

REQUESTS = "gitflink_flink_rest_requests_total"
DEFAULT_TIMEOUT = 10.0
# Submission runs the job's main() on the JobManager; the first call on 2.3 takes ~1.5 s.
RUN_TIMEOUT = 60.0
UPLOAD_TIMEOUT = 60.0


class FlinkRest:
    """Implements gitflink.ports.FlinkApi. `version` ("1.20.5") skips the /overview lookup."""

    def __init__(
        self,
        rest_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        version: str | None = None,
        transport: httpx.BaseTransport | None = None,
        meter: Meter = NULL_METER,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self._meter = meter
        self.timeout = timeout
        self._version = version
        self._client = httpx.Client(base_url=self.rest_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FlinkRest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, timeout=timeout or self.timeout, **kwargs)
        except httpx.TimeoutException as error:
            self._meter.count(REQUESTS, {"verb": method, "code": "timeout"})
            raise FlinkTimeout(f"{method} {self.rest_url}{path} timed out: {error}") from error
        except httpx.TransportError as error:
            self._meter.count(REQUESTS, {"verb": method, "code": "unreachable"})
            raise FlinkUnreachable(f"{method} {self.rest_url}{path}: {error}") from error
        self._meter.count(REQUESTS, {"verb": method, "code": str(response.status_code)})
        if response.status_code >= 400:
            raise FlinkHttpError(
                f"{method} {path} -> {response.status_code}: {error_message(response)}",
                status=response.status_code,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise FlinkHttpError(
                f"{method} {path}: response is not JSON", status=response.status_code
            ) from error

    def version(self) -> tuple[int, int]:
        if self._version is None:
            self._version = self.overview().flink_version
        major, minor = self._version.split(".")[:2]
        return int(major), int(minor)

    # -- cluster --------------------------------------------------------------------------------

    def overview(self) -> ClusterOverview:
        data = self._call("GET", "/overview")
        overview = ClusterOverview(
            flink_version=str(data["flink-version"]),
            taskmanagers=int(data.get("taskmanagers", 0)),
            slots_total=int(data.get("slots-total", 0)),
            slots_available=int(data.get("slots-available", 0)),
            jobs_running=int(data.get("jobs-running", 0)),
        )
        self._version = overview.flink_version
        return overview

    def config(self) -> dict[str, Any]:
        """The web UI config: flink-version, refresh-interval, features."""
        return dict(self._call("GET", "/config"))

    def jobmanager_config(self) -> dict[str, str]:
        return {str(e["key"]): str(e["value"]) for e in self._call("GET", "/jobmanager/config")}

    # -- jars -----------------------------------------------------------------------------------

    def upload_jar(self, path: Path) -> str:
        with path.open("rb") as jar:
            files = {"jarfile": (path.name, jar, "application/x-java-archive")}
            data = self._call("POST", "/jars/upload", files=files, timeout=UPLOAD_TIMEOUT)
        # The jar id is the basename of the stored file: "<uuid>_<name>.jar".
        return Path(str(data["filename"])).name

    def list_jars(self) -> list[str]:
        """Ids of the uploaded jars, newest first as Flink lists them."""
        return [str(f["id"]) for f in self._call("GET", "/jars").get("files", [])]

    def run_jar(self, jar_id: str, request: RunRequest) -> str:
        # 2.x silently ignores the string form `programArgs`: always send the list.
        body: dict[str, Any] = {"programArgsList": list(request.args)}
        if request.entry_class:
            body["entryClass"] = request.entry_class
        if request.parallelism is not None:
            body["parallelism"] = request.parallelism
        if request.job_id:
            body["jobId"] = request.job_id
        if request.savepoint_path:
            body["savepointPath"] = request.savepoint_path
            body["allowNonRestoredState"] = request.allow_non_restored_state
            mode_key = "claimMode" if self.version() >= (1, 20) else "restoreMode"
            body[mode_key] = request.claim_mode
        data = self._call("POST", f"/jars/{jar_id}/run", json=body, timeout=RUN_TIMEOUT)
        return str(data["jobid"])

    def delete_jar(self, jar_id: str) -> None:
        self._call("DELETE", f"/jars/{jar_id}")

    # -- jobs -----------------------------------------------------------------------------------

    def list_jobs(self) -> Sequence[JobSummary]:
        jobs = self._call("GET", "/jobs/overview").get("jobs", [])
        return [
            JobSummary(
                job_id=j["jid"],
                name=j.get("name", ""),
                state=j["state"],
                tasks_total=_count(j, "total"),
                tasks_running=_count(j, "running"),
                start_time=flink_time(j.get("start-time")),
            )
            for j in sorted(jobs, key=lambda j: j.get("start-time", 0))
        ]

    def job_details(self, job_id: str) -> JobDetails:
        data = self._call("GET", f"/jobs/{job_id}")
        vertices = tuple(
            Vertex(
                vertex_id=v["id"],
                name=v.get("name", ""),
                parallelism=int(v.get("parallelism", 0)),
                status=v.get("status", ""),
            )
            for v in data.get("vertices", [])
        )
        return JobDetails(
            job_id=data["jid"],
            name=data.get("name", ""),
            state=data["state"],
            vertices=vertices,
            start_time=flink_time(data.get("start-time")),
        )

    def job_exceptions(self, job_id: str) -> JobExceptions:
        data = self._call("GET", f"/jobs/{job_id}/exceptions")
        if not has_exceptions(data) and self.version() >= (2, 3):
            # 2.3 records a failure before scheduling (e.g. a missing savepoint) on the
            # application only; a job submitted through /jars/run has the job's id as its own.
            try:
                data = self._call("GET", f"/applications/{job_id}/exceptions")
            except FlinkHttpError as error:
                if error.status != 404:
                    raise
        return exceptions(data)

    def cancel(self, job_id: str) -> None:
        """Cancel; a job that already reached a terminal state (409) counts as cancelled."""
        try:
            self._call("PATCH", f"/jobs/{job_id}", params={"mode": "cancel"})
        except FlinkHttpError as error:
            if error.status != 409:
                raise

    # -- savepoints and checkpoints -------------------------------------------------------------

    def trigger_savepoint(
        self,
        job_id: str,
        target_dir: str | None,
        *,
        trigger_id: str | None = None,
        format_type: str = "CANONICAL",
    ) -> str:
        """Kebab-case body. Re-posting the same trigger_id is idempotent on Flink's side."""
        body: dict[str, Any] = {"cancel-job": False, "formatType": format_type}
        if target_dir:
            body["target-directory"] = target_dir
        if trigger_id:
            body["triggerId"] = trigger_id
        return str(self._call("POST", f"/jobs/{job_id}/savepoints", json=body)["request-id"])

    def stop_with_savepoint(
        self,
        job_id: str,
        target_dir: str | None,
        *,
        drain: bool = False,
        trigger_id: str | None = None,
        format_type: str = "CANONICAL",
    ) -> str:
        """CamelCase body (unlike the savepoint trigger). Poll with `savepoint_status`."""
        body: dict[str, Any] = {"drain": drain, "formatType": format_type}
        if target_dir:
            body["targetDirectory"] = target_dir
        if trigger_id:
            body["triggerId"] = trigger_id
        return str(self._call("POST", f"/jobs/{job_id}/stop", json=body)["request-id"])

    def savepoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return operation(self._call("GET", f"/jobs/{job_id}/savepoints/{trigger_id}"))

    def savepoint_result(self, job_id: str, trigger_id: str) -> str | None:
        """The savepoint path once done, None while in progress; SavepointFailed on failure."""
        operation = self.savepoint_status(job_id, trigger_id)
        if operation.state is OperationState.FAILED:
            raise SavepointFailed(f"savepoint for job {job_id} failed: {operation.failure}")
        return operation.location

    def trigger_checkpoint(
        self, job_id: str, *, trigger_id: str | None = None, checkpoint_type: str = "FULL"
    ) -> str:
        """Flink >= 1.17. FULL so the result is self-contained, not a chain of increments.
        Re-posting the same trigger_id is idempotent, as for savepoints."""
        body = {"checkpointType": checkpoint_type}
        if trigger_id:
            body["triggerId"] = trigger_id
        return str(self._call("POST", f"/jobs/{job_id}/checkpoints", json=body)["request-id"])

    def checkpoint_status(self, job_id: str, trigger_id: str) -> AsyncOperation:
        return operation(self._call("GET", f"/jobs/{job_id}/checkpoints/{trigger_id}"))

    def checkpoints(self, job_id: str) -> CheckpointStats:
        latest = self._call("GET", f"/jobs/{job_id}/checkpoints").get("latest") or {}
        completed = latest.get("completed") or {}
        savepoint = latest.get("savepoint") or {}
        restored = latest.get("restored") or {}
        return CheckpointStats(
            latest_completed=completed.get("external_path"),
            latest_completed_id=completed.get("id"),
            latest_savepoint=savepoint.get("external_path"),
            latest_savepoint_type=savepoint.get("checkpoint_type"),
            restored=restored.get("external_path"),
            restored_is_savepoint=bool(restored.get("is_savepoint", False)),
        )

    def dispose_savepoint(self, path: str) -> str:
        """The JobManager loads the savepoint's metadata, discards its state and deletes its
        directory (Flink's savepoint disposal, as `flink savepoint --dispose` does)."""
        body = {"savepoint-path": path}
        return str(self._call("POST", "/savepoint-disposal", json=body)["request-id"])

    def disposal_status(self, trigger_id: str) -> AsyncOperation:
        return operation(self._call("GET", f"/savepoint-disposal/{trigger_id}"))

    # -- scaling and metrics --------------------------------------------------------------------

    def resource_requirements(self, job_id: str) -> dict[str, int]:
        """Adaptive scheduler only: the default scheduler answers 500 (FlinkHttpError)."""
        data = self._call("GET", f"/jobs/{job_id}/resource-requirements")
        return {vid: int(req["parallelism"]["upperBound"]) for vid, req in data.items()}

    def set_parallelism(self, job_id: str, parallelism: dict[str, int]) -> None:
        """Rescale in place. Flink wants the full map, so unnamed vertices keep their bounds."""
        current = self._call("GET", f"/jobs/{job_id}/resource-requirements")
        unknown = set(parallelism) - set(current)
        if unknown:
            raise FlinkHttpError(f"unknown vertices for job {job_id}: {sorted(unknown)}")
        body = {
            vid: {"parallelism": {"lowerBound": 1, "upperBound": parallelism[vid]}}
            if vid in parallelism
            else req
            for vid, req in current.items()
        }
        self._call("PUT", f"/jobs/{job_id}/resource-requirements", json=body)

    def vertex_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> Sequence[VertexMetric]:
        """Aggregated over subtasks; metrics not reported yet are simply absent."""
        data = self._call(
            "GET",
            f"/jobs/{job_id}/vertices/{vertex_id}/subtasks/metrics",
            params={"get": ",".join(names)},
        )
        return [
            VertexMetric(
                name=m["id"],
                min=float(m.get("min", 0.0)),
                max=float(m.get("max", 0.0)),
                avg=float(m.get("avg", 0.0)),
                sum=float(m.get("sum", 0.0)),
            )
            for m in data
        ]


def _count(job: dict[str, Any], state: str) -> int | None:
    """A task count from a /jobs/overview entry (`tasks.<state>`), None when absent."""
    value = (job.get("tasks") or {}).get(state)
    return int(value) if isinstance(value, int) else None
