"""The local runtime and FlinkRest against real Flink JVMs (1.20 and the newest 2.x)."""

from __future__ import annotations

import socket
import uuid

import pytest
from support.flink_fixtures import (
    EXAMPLE_JAR_URI,
    SharedCluster,
    deployment_spec,
    wait_for,
)

from gitflink.adapters.flink_rest import FlinkRest
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.local_runtime.cluster import free_port, pid_alive
from gitflink.model.errors import ClusterError, FlinkHttpError
from gitflink.model.flink import JobDetails, OperationState, RunRequest
from gitflink.model.ids import Kind, ResourceId

pytestmark = pytest.mark.flink

COUNTER_ARGS = ("--rate", "100", "--keys", "16", "--checkpoint-interval", "1000")


def start_job(cluster: SharedCluster, parallelism: int, **run: object) -> str:
    request = RunRequest(
        args=COUNTER_ARGS,
        parallelism=parallelism,
        job_id=uuid.uuid4().hex,
        **run,  # type: ignore[arg-type]
    )
    job_id = cluster.api.run_jar(cluster.jar_id, request)
    assert job_id == request.job_id
    wait_running(cluster.api, job_id)
    return job_id


def wait_running(api: FlinkRest, job_id: str, parallelism: int | None = None) -> JobDetails:
    def running() -> JobDetails | None:
        job = api.job_details(job_id)
        ok = job.all_vertices_running and (
            parallelism is None or all(v.parallelism == parallelism for v in job.vertices)
        )
        return job if ok else None

    return wait_for(running, 60.0, f"job {job_id} RUNNING")


def counter_gauge(api: FlinkRest, job_id: str, name: str) -> tuple[float, float] | None:
    """(min, max) over subtasks of a gauge of the counter operator, once every subtask has it."""
    job = api.job_details(job_id)
    vertex = next(v for v in job.vertices if v.name.startswith("counter"))
    metrics = api.vertex_metrics(job_id, vertex.vertex_id, [f"counter.{name}"])
    return (metrics[0].min, metrics[0].max) if metrics else None


def wait_operation(api: FlinkRest, job_id: str, trigger: str) -> str:
    location = wait_for(lambda: api.savepoint_result(job_id, trigger), 60.0, "savepoint")
    assert location.startswith("file:")
    return location


def test_cluster_answers_on_loopback_with_the_requested_version(cluster: SharedCluster) -> None:
    overview = cluster.api.overview()
    assert overview.flink_version.startswith(cluster.version[1:].replace("_", ".") + ".")
    assert overview.taskmanagers == 1 and overview.slots_total == 4
    assert cluster.handle.rest_url.startswith("http://127.0.0.1:")
    config = cluster.api.jobmanager_config()
    assert config["rest.bind-address"] == "127.0.0.1"
    assert cluster.handle.savepoint_dir == config["execution.checkpointing.savepoint-dir"]


def test_savepoint_restore_at_new_parallelism_continues_the_counter(
    cluster: SharedCluster,
) -> None:
    api = cluster.api
    first = start_job(cluster, 2)
    wait_for(lambda: (g := counter_gauge(api, first, "maxCount")) and g[1] >= 20, 30.0, "counts")

    savepoint = wait_operation(
        api, first, api.trigger_savepoint(first, cluster.handle.savepoint_dir)
    )
    assert api.checkpoints(first).latest_savepoint == savepoint
    before_stop = counter_gauge(api, first, "maxCount")
    assert before_stop is not None
    final = wait_operation(api, first, api.stop_with_savepoint(first, cluster.handle.savepoint_dir))
    wait_for(lambda: api.job_details(first).state == "FINISHED", 30.0, "FINISHED")

    second = start_job(cluster, 3, savepoint_path=final)
    stats = api.checkpoints(second)
    assert stats.restored == final and stats.restored_is_savepoint
    # Every subtask's first record continued a restored count instead of starting at 1.
    start = wait_for(lambda: counter_gauge(api, second, "startCount"), 30.0, "startCount")
    assert start[0] > 1
    resumed = wait_for(lambda: counter_gauge(api, second, "maxCount"), 30.0, "maxCount")
    assert resumed[1] >= before_stop[1]
    assert {v.parallelism for v in api.job_details(second).vertices} == {3}

    api.cancel(second)
    wait_for(lambda: api.job_details(second).state == "CANCELED", 30.0, "CANCELED")
    api.cancel(second)  # cancelling a cancelled job is not an error


def test_fresh_job_counts_from_one(cluster: SharedCluster) -> None:
    job = start_job(cluster, 1)
    start = wait_for(lambda: counter_gauge(cluster.api, job, "startCount"), 30.0, "startCount")
    assert start == (1.0, 1.0)
    cluster.api.cancel(job)


def test_adaptive_rescale_after_checkpoint_keeps_state(cluster: SharedCluster) -> None:
    api = cluster.api
    job = start_job(cluster, 2)
    trigger = api.trigger_checkpoint(job)
    done = wait_for(
        lambda: (
            (op := api.checkpoint_status(job, trigger)).state is not OperationState.IN_PROGRESS
            and op
        ),
        30.0,
        "checkpoint",
    )
    assert done.state is OperationState.COMPLETED and done.checkpoint_id is not None
    requirements = api.resource_requirements(job)
    assert set(requirements.values()) == {2}

    api.set_parallelism(job, dict.fromkeys(requirements, 3))
    wait_running(api, job, parallelism=3)
    assert set(api.resource_requirements(job).values()) == {3}
    restored = wait_for(lambda: api.checkpoints(job).restored, 30.0, "restored checkpoint")
    assert "chk-" in restored
    api.cancel(job)


def test_restore_from_a_missing_savepoint_reports_flinks_cause(cluster: SharedCluster) -> None:
    """The default scheduler refuses the submission (400); the adaptive scheduler, used here,
    accepts it and the job then FAILS, with the cause in its exceptions."""
    api = cluster.api
    request = RunRequest(
        args=COUNTER_ARGS, job_id=uuid.uuid4().hex, savepoint_path="file:///nonexistent/sp-x"
    )
    try:
        job = api.run_jar(cluster.jar_id, request)
    except FlinkHttpError as error:
        assert error.status == 400
        assert "nonexistent/sp-x" in str(error)
        return
    wait_for(lambda: api.job_details(job).state == "FAILED", 30.0, "FAILED")
    cause = wait_for(lambda: api.job_exceptions(job).root_cause, 30.0, "root cause")
    assert "nonexistent/sp-x" in cause


def test_a_new_runtime_adopts_the_running_cluster(
    cluster: SharedCluster, flink_runtime: LocalRuntime
) -> None:
    restarted = LocalRuntime(flink_runtime.data_dir, flink_runtime.cache_dir)
    found = restarted.find_cluster(cluster.resource)
    assert found is not None and found.pids == cluster.handle.pids
    assert found.rest_url == cluster.handle.rest_url
    assert cluster.resource in {h.resource for h in restarted.list_clusters()}
    again = restarted.ensure_cluster(cluster.resource, cluster.spec)
    assert again.pids == cluster.handle.pids  # no duplicate processes


def test_more_parallelism_adds_taskmanagers_to_the_same_cluster(
    flink_runtime: LocalRuntime, cluster: SharedCluster
) -> None:
    resource = ResourceId(
        Kind.FLINK_DEPLOYMENT, "test", f"grow-{cluster.version.replace('_', '-')}"
    )
    spec = deployment_spec(cluster.version, **{"taskmanager.numberOfTaskSlots": 1})
    assert spec.job is not None
    one = spec.model_copy(update={"job": spec.job.model_copy(update={"parallelism": 1})})
    small = flink_runtime.ensure_cluster(resource, one)
    assert len(small.pids) == 2  # one JobManager, one TaskManager
    bigger = spec.model_copy(update={"job": spec.job.model_copy(update={"parallelism": 2})})
    grown = flink_runtime.ensure_cluster(resource, bigger)
    assert grown.pids[:2] == small.pids and len(grown.pids) == 3
    assert FlinkRest(grown.rest_url).overview().slots_total == 2

    flink_runtime.delete_cluster(resource)
    assert not any(pid_alive(pid, f"/{resource.name}/conf") for pid in grown.pids)
    assert flink_runtime.find_cluster(resource) is None
    flink_runtime.delete_cluster(resource)  # deleting what is gone succeeds


def test_jar_uris_resolve_locally_or_fail_clearly(flink_runtime: LocalRuntime) -> None:
    jar = flink_runtime.resolve_jar(EXAMPLE_JAR_URI)
    assert jar.name == "gitflink-testjob.jar" and jar.is_file()
    assert flink_runtime.resolve_jar(f"file://{jar}") == jar
    with pytest.raises(ClusterError, match="no such jar"):
        flink_runtime.resolve_jar("local:///opt/flink/examples/streaming/Missing.jar")


def test_changed_configuration_replaces_an_idle_cluster_but_never_a_running_job(
    flink_runtime: LocalRuntime,
) -> None:
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "test", "reconfigured")
    first = flink_runtime.ensure_cluster(resource, deployment_spec("v1_20"))
    try:
        changed = deployment_spec("v1_20", **{"pipeline.name": "renamed"})
        second = flink_runtime.ensure_cluster(resource, changed)
        assert second.pids[0] != first.pids[0]  # a fresh JobManager with the new config
        assert not pid_alive(first.pids[0], "/reconfigured/conf")

        api = FlinkRest(second.rest_url)
        jar = api.upload_jar(flink_runtime.resolve_jar(EXAMPLE_JAR_URI))
        job = api.run_jar(jar, RunRequest(args=COUNTER_ARGS, parallelism=1))
        wait_running(api, job)
        with pytest.raises(ClusterError, match="stop the jobs"):
            flink_runtime.ensure_cluster(resource, deployment_spec("v1_20"))
        assert api.job_details(job).state == "RUNNING"
    finally:
        flink_runtime.delete_cluster(resource)


def test_a_port_taken_during_start_up_is_retried_with_new_ports(
    flink_runtime: LocalRuntime,
) -> None:
    """free_port() only says a port was free a moment ago; when another process binds it
    before the JobManager does, the cluster starts on fresh ports instead of failing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, *(free_port() for _ in range(8))])
        runtime = LocalRuntime(
            flink_runtime.data_dir, flink_runtime.cache_dir, free_port=lambda: next(ports)
        )
        resource = ResourceId(Kind.FLINK_DEPLOYMENT, "test", "port-clash")
        try:
            handle = runtime.ensure_cluster(resource, deployment_spec("v1_20"))
            assert f":{taken}" not in handle.rest_url
            assert FlinkRest(handle.rest_url).overview().taskmanagers == 1
        finally:
            runtime.delete_cluster(resource)
