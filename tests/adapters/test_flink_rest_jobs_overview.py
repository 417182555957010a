"""FlinkRest's job listing carries task counts: the observer's per-cluster view of every job."""

from __future__ import annotations

import respx

from gitflink.adapters.flink_rest import FlinkRest

URL = "http://127.0.0.1:18081"


def _tasks(running: int, total: int) -> dict[str, int]:
    return {"running": running, "total": total, "deploying": total - running, "failed": 0}


def test_job_listing_reports_all_tasks_running_only_when_every_task_runs() -> None:
    jobs = [
        {"jid": "a", "name": "n", "state": "RUNNING", "start-time": 1, "tasks": _tasks(4, 4)},
        {"jid": "b", "name": "n", "state": "RUNNING", "start-time": 2, "tasks": _tasks(1, 4)},
        {"jid": "c", "name": "n", "state": "FAILED", "start-time": 3, "tasks": _tasks(0, 0)},
        {"jid": "d", "name": "n", "state": "RUNNING", "start-time": 4},
    ]
    with respx.mock(base_url=URL) as router:
        router.get("/jobs/overview").respond(json={"jobs": jobs})
        listed = FlinkRest(URL, version="1.20.5").list_jobs()
    assert [(j.job_id, j.tasks_running, j.tasks_total) for j in listed] == [
        ("a", 4, 4),
        ("b", 1, 4),
        ("c", 0, 0),
        ("d", None, None),
    ]
    # No task counts (an older or odd server): not known to run, so it is read in depth.
    assert [j.all_tasks_running for j in listed] == [True, False, False, False]
