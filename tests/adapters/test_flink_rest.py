"""FlinkRest at the HTTP door: request shapes per Flink version, response parsing, error mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from gitflink.adapters.flink_rest import RUN_TIMEOUT, FlinkRest, flink_message
from gitflink.model.errors import FlinkHttpError, FlinkTimeout, FlinkUnreachable, SavepointFailed
from gitflink.model.flink import OperationState, RunRequest
from gitflink.ports import FlinkApi

URL = "http://127.0.0.1:18081"
JOB = "726b24eea88da0745cf13523c3da5de0"
TRACE = (
    "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n"
    "\tat org.apache.flink...\n"
    "Caused by: java.util.concurrent.CompletionException: wrapped\n"
    "Caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint "
    "file/directory 'file:/gone'\n\tat ...\n"
)


def overview(version: str) -> dict[str, object]:
    return {
        "taskmanagers": 1,
        "slots-total": 4,
        "slots-available": 2,
        "jobs-running": 1,
        "flink-version": version,
    }


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=URL, assert_all_called=False) as router:
        yield router


def client(version: str | None = "1.20.5") -> FlinkRest:
    return FlinkRest(URL, version=version)


def sent(route: respx.Route) -> dict[str, object]:
    body: dict[str, object] = json.loads(route.calls.last.request.content)
    return body


def test_flink_rest_satisfies_the_port() -> None:
    api: FlinkApi = client()
    assert api.overview is not None


def test_overview_parses_version_and_slots(mock: respx.MockRouter) -> None:
    mock.get("/overview").respond(json=overview("2.3.0"))
    result = client(None).overview()
    assert (result.flink_version, result.slots_total, result.slots_available) == ("2.3.0", 4, 2)
    assert result.major_minor == (2, 3)


def test_upload_sends_multipart_jarfile_and_returns_the_stored_basename(
    mock: respx.MockRouter, tmp_path: Path
) -> None:
    jar = tmp_path / "gitflink-testjob.jar"
    jar.write_bytes(b"PK\x03\x04")
    route = mock.post("/jars/upload").respond(
        json={"filename": "/up/flink-web-upload/abc_gitflink-testjob.jar", "status": "success"}
    )
    assert client().upload_jar(jar) == "abc_gitflink-testjob.jar"
    request = route.calls.last.request
    assert b'name="jarfile"; filename="gitflink-testjob.jar"' in request.content
    assert b"application/x-java-archive" in request.content


def test_list_jars_returns_the_stored_ids(mock: respx.MockRouter) -> None:
    mock.get("/jars").respond(
        json={
            "address": URL,
            "files": [{"id": "b_two.jar", "name": "two.jar"}, {"id": "a_one.jar"}],
        }
    )
    assert client().list_jars() == ["b_two.jar", "a_one.jar"]
    mock.get("/jars").respond(json={"address": URL, "files": []})
    assert client().list_jars() == []


def test_run_always_sends_program_args_as_a_list(mock: respx.MockRouter) -> None:
    route = mock.post("/jars/j1/run").respond(json={"jobid": JOB})
    job = client("2.3.0").run_jar(
        "j1", RunRequest(entry_class="a.B", args=("--rate", "5"), parallelism=2, job_id=JOB)
    )
    assert job == JOB
    body = sent(route)
    assert body == {
        "programArgsList": ["--rate", "5"],
        "entryClass": "a.B",
        "parallelism": 2,
        "jobId": JOB,
    }
    assert "programArgs" not in body  # 2.x silently ignores the string form


@pytest.mark.parametrize(
    ("version", "key"),
    [
        ("1.18.1", "restoreMode"),
        ("1.19.3", "restoreMode"),
        ("1.20.5", "claimMode"),
        ("2.3.0", "claimMode"),
    ],
)
def test_restore_mode_key_follows_the_flink_version(
    mock: respx.MockRouter, version: str, key: str
) -> None:
    route = mock.post("/jars/j1/run").respond(json={"jobid": JOB, "applicationId": JOB})
    request = RunRequest(savepoint_path="file:/sp/savepoint-1", allow_non_restored_state=True)
    client(version).run_jar("j1", request)
    body = sent(route)
    assert body["savepointPath"] == "file:/sp/savepoint-1"
    assert body["allowNonRestoredState"] is True
    assert body[key] == "NO_CLAIM"
    assert {"restoreMode", "claimMode"} - {key} & set(body) == set()


def test_version_is_looked_up_once_when_not_given(mock: respx.MockRouter) -> None:
    versions = mock.get("/overview").respond(json=overview("1.19.3"))
    route = mock.post("/jars/j1/run").respond(json={"jobid": JOB})
    api = client(None)
    api.run_jar("j1", RunRequest(savepoint_path="file:/a"))
    api.run_jar("j1", RunRequest(savepoint_path="file:/b"))
    assert versions.call_count == 1
    assert "restoreMode" in sent(route)


def test_run_gets_the_long_submission_timeout(mock: respx.MockRouter) -> None:
    route = mock.post("/jars/j1/run").respond(json={"jobid": JOB})
    jobs = mock.get("/jobs/overview").respond(json={"jobs": []})
    api = client()
    api.run_jar("j1", RunRequest())
    api.list_jobs()
    assert route.calls.last.request.extensions["timeout"]["read"] == RUN_TIMEOUT
    assert jobs.calls.last.request.extensions["timeout"]["read"] == api.timeout


def test_failed_submission_reports_the_last_caused_by_line(mock: respx.MockRouter) -> None:
    route = mock.post("/jars/j1/run").respond(400, json={"errors": [TRACE]})
    with pytest.raises(FlinkHttpError) as raised:
        client().run_jar("j1", RunRequest(savepoint_path="file:/gone"))
    assert raised.value.status == 400
    assert str(raised.value).endswith(
        "java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory "
        "'file:/gone'"
    )
    assert route.call_count == 1  # no hidden retries


def test_internal_server_error_prefix_of_2x_is_skipped_for_the_cause(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"/jobs/{JOB}/status").respond(
        500, json={"errors": ["Internal server error.", "<Exception on server side:\n" + TRACE]}
    )
    with pytest.raises(FlinkHttpError, match="FileNotFoundException") as raised:
        client()._call("GET", f"/jobs/{JOB}/status")
    assert raised.value.status == 500


def test_plain_error_without_cause_uses_the_message(mock: respx.MockRouter) -> None:
    mock.get("/nonexistent").respond(
        404, json={"errors": ["Unable to load requested file /nonexistent."]}
    )
    with pytest.raises(FlinkHttpError, match=r"404: Unable to load requested file"):
        client()._call("GET", "/nonexistent")


def test_connection_refused_is_unreachable(mock: respx.MockRouter) -> None:
    route = mock.get("/overview").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(FlinkUnreachable):
        client().overview()
    assert route.call_count == 1


def test_slow_answer_is_a_timeout(mock: respx.MockRouter) -> None:
    mock.get("/jobs/overview").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(FlinkTimeout):
        client().list_jobs()


def test_jobs_overview_lists_id_name_state_oldest_first(mock: respx.MockRouter) -> None:
    mock.get("/jobs/overview").respond(
        json={
            "jobs": [
                {"jid": "b", "name": "new", "state": "RUNNING", "start-time": 20},
                {"jid": "a", "name": "old", "state": "FAILED", "start-time": 10},
            ]
        }
    )
    jobs = client().list_jobs()
    assert [(j.job_id, j.name, j.state) for j in jobs] == [
        ("a", "old", "FAILED"),
        ("b", "new", "RUNNING"),
    ]


def test_job_running_only_when_every_vertex_runs(mock: respx.MockRouter) -> None:
    details = {
        "jid": JOB,
        "name": "counter",
        "state": "RUNNING",
        "vertices": [
            {"id": "v1", "name": "src", "parallelism": 2, "status": "RUNNING"},
            {"id": "v2", "name": "counter", "parallelism": 2, "status": "DEPLOYING"},
        ],
    }
    mock.get(f"/jobs/{JOB}").respond(json=details)
    job = client().job_details(JOB)
    assert [v.vertex_id for v in job.vertices] == ["v1", "v2"]
    assert job.state == "RUNNING" and not job.all_vertices_running


def test_exceptions_read_root_exception_on_1x(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/exceptions").respond(
        json={
            "root-exception": "java.lang.RuntimeException: boom\n\tat x",
            "exceptionHistory": {"entries": [{"exceptionName": "x", "stacktrace": TRACE}]},
        }
    )
    result = client().job_exceptions(JOB)
    assert result.root_cause == "java.lang.RuntimeException: boom"
    assert result.history[0].startswith("java.io.FileNotFoundException")


def test_exceptions_fall_back_to_history_on_2_3(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/exceptions").respond(
        json={"exceptionHistory": {"entries": [{"stacktrace": "java.lang.Error: late\n\tat y"}]}}
    )
    assert client("2.3.0").job_exceptions(JOB).root_cause == "java.lang.Error: late"


def test_exceptions_of_a_job_failed_before_scheduling_come_from_its_application_on_2_3(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"/jobs/{JOB}/exceptions").respond(json={"exceptionHistory": {"entries": []}})
    mock.get(f"/applications/{JOB}/exceptions").respond(
        json={"exceptionHistory": {"entries": [{"stacktrace": TRACE}]}}
    )
    cause = client("2.3.0").job_exceptions(JOB).root_cause
    assert cause is not None and cause.startswith("java.io.FileNotFoundException")


def test_no_exceptions_on_1x_needs_no_application_lookup(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/exceptions").respond(json={"exceptionHistory": {"entries": []}})
    applications = mock.get(f"/applications/{JOB}/exceptions")
    assert client("1.20.5").job_exceptions(JOB).root_cause is None
    assert applications.call_count == 0


def test_savepoint_trigger_body_is_kebab_case(mock: respx.MockRouter) -> None:
    route = mock.post(f"/jobs/{JOB}/savepoints").respond(202, json={"request-id": "t1"})
    assert client().trigger_savepoint(JOB, "file:/sp", trigger_id="t1") == "t1"
    assert sent(route) == {
        "cancel-job": False,
        "formatType": "CANONICAL",
        "target-directory": "file:/sp",
        "triggerId": "t1",
    }


def test_stop_body_is_camel_case_with_drain(mock: respx.MockRouter) -> None:
    route = mock.post(f"/jobs/{JOB}/stop").respond(202, json={"request-id": "t2"})
    assert client().stop_with_savepoint(JOB, "file:/sp", drain=True) == "t2"
    assert sent(route) == {"drain": True, "formatType": "CANONICAL", "targetDirectory": "file:/sp"}


def test_savepoint_target_is_left_out_when_the_cluster_default_applies(
    mock: respx.MockRouter,
) -> None:
    route = mock.post(f"/jobs/{JOB}/savepoints").respond(202, json={"request-id": "t"})
    client().trigger_savepoint(JOB, None)
    assert "target-directory" not in sent(route)


def test_savepoint_status_in_progress_then_completed(mock: respx.MockRouter) -> None:
    route = mock.get(f"/jobs/{JOB}/savepoints/t1")
    route.side_effect = [
        httpx.Response(200, json={"status": {"id": "IN_PROGRESS"}, "operation": None}),
        httpx.Response(
            200, json={"status": {"id": "COMPLETED"}, "operation": {"location": "file:/sp/s-1"}}
        ),
    ]
    api = client()
    assert api.savepoint_status(JOB, "t1").state is OperationState.IN_PROGRESS
    done = api.savepoint_status(JOB, "t1")
    assert (done.state, done.location) == (OperationState.COMPLETED, "file:/sp/s-1")


def test_completed_with_failure_cause_is_failed(mock: respx.MockRouter) -> None:
    failure = {
        "status": {"id": "COMPLETED"},
        "operation": {
            "failure-cause": {
                "class": "java.util.concurrent.CompletionException",
                "stack-trace": "x\nCaused by: org.apache.flink.runtime.checkpoint."
                "CheckpointException: IO-problem detected.\n\tat z",
            }
        },
    }
    mock.get(f"/jobs/{JOB}/savepoints/t1").respond(json=failure)
    operation = client().savepoint_status(JOB, "t1")
    assert operation.state is OperationState.FAILED
    assert operation.location is None
    assert operation.failure is not None and operation.failure.endswith("IO-problem detected.")
    with pytest.raises(SavepointFailed, match="IO-problem detected"):
        client().savepoint_result(JOB, "t1")


def test_unknown_trigger_is_an_http_error(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/savepoints/nope").respond(
        404, json={"errors": ["There is no savepoint operation with triggerId=nope"]}
    )
    with pytest.raises(FlinkHttpError) as raised:
        client().savepoint_status(JOB, "nope")
    assert raised.value.status == 404


def test_checkpoint_trigger_and_status_report_the_checkpoint_id(mock: respx.MockRouter) -> None:
    trigger = mock.post(f"/jobs/{JOB}/checkpoints").respond(202, json={"request-id": "c1"})
    mock.get(f"/jobs/{JOB}/checkpoints/c1").respond(
        json={"status": {"id": "COMPLETED"}, "operation": {"checkpointId": 7}}
    )
    api = client()
    assert api.trigger_checkpoint(JOB) == "c1"
    assert sent(trigger) == {"checkpointType": "FULL"}
    assert api.checkpoint_status(JOB, "c1").checkpoint_id == 7


def test_a_checkpoint_trigger_id_and_a_savepoint_disposal_are_sent_as_flink_reads_them(
    mock: respx.MockRouter,
) -> None:
    trigger = mock.post(f"/jobs/{JOB}/checkpoints").respond(202, json={"request-id": "t1"})
    disposal = mock.post("/savepoint-disposal").respond(200, json={"request-id": "d1"})
    mock.get("/savepoint-disposal/d1").respond(json={"status": {"id": "COMPLETED"}})
    api = client()
    assert api.trigger_checkpoint(JOB, trigger_id="t1") == "t1"
    assert sent(trigger) == {"checkpointType": "FULL", "triggerId": "t1"}
    assert api.dispose_savepoint("file:/sp/savepoint-1") == "d1"
    assert sent(disposal) == {"savepoint-path": "file:/sp/savepoint-1"}
    assert api.disposal_status("d1").state is OperationState.COMPLETED


def test_checkpoint_stats_give_latest_and_restored_paths(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/checkpoints").respond(
        json={
            "latest": {
                "completed": {"id": 3, "external_path": "file:/c/chk-3"},
                "savepoint": None,
                "restored": {"id": 2, "is_savepoint": True, "external_path": "file:/sp/s-1"},
            }
        }
    )
    stats = client().checkpoints(JOB)
    assert (stats.latest_completed, stats.latest_completed_id) == ("file:/c/chk-3", 3)
    assert (stats.restored, stats.restored_is_savepoint) == ("file:/sp/s-1", True)
    assert stats.latest_savepoint is None


def test_cancel_of_an_already_finished_job_succeeds(mock: respx.MockRouter) -> None:
    route = mock.patch(f"/jobs/{JOB}", params={"mode": "cancel"})
    route.side_effect = [
        httpx.Response(202, json={}),
        httpx.Response(409, json={"errors": ["already reached another terminal state"]}),
    ]
    api = client()
    api.cancel(JOB)
    api.cancel(JOB)
    assert route.call_count == 2


def test_cancel_of_an_unknown_job_fails(mock: respx.MockRouter) -> None:
    mock.patch(f"/jobs/{JOB}").respond(404, json={"errors": ["Could not find Flink job"]})
    with pytest.raises(FlinkHttpError, match="Could not find Flink job"):
        client().cancel(JOB)


def test_rescale_puts_the_full_requirement_map(mock: respx.MockRouter) -> None:
    current = {
        "v1": {"parallelism": {"lowerBound": 1, "upperBound": 2}},
        "v2": {"parallelism": {"lowerBound": 1, "upperBound": 2}},
    }
    mock.get(f"/jobs/{JOB}/resource-requirements").respond(json=current)
    put = mock.put(f"/jobs/{JOB}/resource-requirements").respond(json={})
    api = client()
    assert api.resource_requirements(JOB) == {"v1": 2, "v2": 2}
    api.set_parallelism(JOB, {"v2": 3})
    assert sent(put) == {
        "v1": {"parallelism": {"lowerBound": 1, "upperBound": 2}},
        "v2": {"parallelism": {"lowerBound": 1, "upperBound": 3}},
    }


def test_rescale_of_unknown_vertex_is_refused_before_any_put(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/resource-requirements").respond(
        json={"v1": {"parallelism": {"lowerBound": 1, "upperBound": 2}}}
    )
    put = mock.put(f"/jobs/{JOB}/resource-requirements")
    with pytest.raises(FlinkHttpError, match="unknown vertices"):
        client().set_parallelism(JOB, {"nope": 3})
    assert put.call_count == 0


def test_default_scheduler_refuses_resource_requirements(mock: respx.MockRouter) -> None:
    mock.get(f"/jobs/{JOB}/resource-requirements").respond(
        500,
        json={
            "errors": [
                "x\nCaused by: java.lang.UnsupportedOperationException: The "
                "DefaultScheduler does not support changing the parallelism"
            ]
        },
    )
    with pytest.raises(FlinkHttpError, match="DefaultScheduler") as raised:
        client().resource_requirements(JOB)
    assert raised.value.status == 500


def test_vertex_metrics_are_aggregated_over_subtasks(mock: respx.MockRouter) -> None:
    route = mock.get(f"/jobs/{JOB}/vertices/v1/subtasks/metrics").respond(
        json=[{"id": "counter.maxCount", "min": 3.0, "max": 9.0, "avg": 6.0, "sum": 12.0}]
    )
    metrics = client().vertex_metrics(JOB, "v1", ["counter.maxCount", "busyTimeMsPerSecond"])
    assert route.calls.last.request.url.params["get"] == "counter.maxCount,busyTimeMsPerSecond"
    assert [(m.name, m.min, m.max, m.sum) for m in metrics] == [("counter.maxCount", 3, 9, 12)]


def test_flink_message_without_lines_is_empty() -> None:
    assert flink_message("") == ""
    assert flink_message("only line\n\tat x") == "only line"


def test_every_call_is_counted_by_verb_and_status_code(mock: respx.MockRouter) -> None:
    from gitflink.agent.metrics import Metrics

    metrics = Metrics()
    api = FlinkRest(URL, version="1.20.5", meter=metrics.meter)
    mock.get("/overview").respond(json=overview("1.20.5"))
    mock.patch(f"/jobs/{JOB}").respond(status_code=404, json={"errors": ["not found"]})
    mock.get("/jobs/overview").mock(side_effect=httpx.ConnectError("refused"))
    api.overview()
    api.overview()
    with pytest.raises(FlinkHttpError):
        api.cancel(JOB)
    with pytest.raises(FlinkUnreachable):
        api.list_jobs()

    def count(verb: str, code: str) -> float:
        labels = {"verb": verb, "code": code}
        return metrics.registry.get_sample_value("gitflink_flink_rest_requests_total", labels) or 0

    assert (count("GET", "200"), count("PATCH", "404"), count("GET", "unreachable")) == (2, 1, 1)
