"""A near-miss apiVersion on a Flink kind is an error that holds the resource, never "not
managed": read as not managed, the resource would count as removed and its job be deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import fake_world
from support.gitrepos import run_git
from support.passes import ORDERS, app

from gitflink.cli import main
from gitflink.core.parsing import parse_files
from gitflink.model.ids import job_id_for
from gitflink.model.plan import Action
from gitflink.runtime.reconciler import run_pass

NEAR_MISSES = [
    "flink.apache.org.v1beta1",
    "flink.apache.org/v1beta",
    "flink.apache/v1beta1",
    "Flink.apache.org/v1beta1",
    "flink-apache.org/v1beta1",
]


def document(api_version: str, kind: str = "FlinkDeployment") -> bytes:
    return (
        app("orders")
        .replace(b"flink.apache.org/v1beta1", api_version.encode())
        .replace(b"kind: FlinkDeployment", f"kind: {kind}".encode())
    )


@pytest.mark.parametrize("api_version", NEAR_MISSES)
def test_near_miss_api_version_is_an_error_of_the_resource_with_a_suggestion(
    api_version: str,
) -> None:
    parsed = parse_files({"orders.yaml": document(api_version)})
    assert parsed.not_managed == ()
    [problem] = parsed.problems
    assert problem.is_error and problem.field == "apiVersion" and problem.resource == ORDERS
    assert problem.message == (
        f"{api_version!r} is not supported; did you mean 'flink.apache.org/v1beta1'?"
    )
    assert problem.line == 2


@pytest.mark.parametrize("api_version", ["flink.apache.org.v1beta1", "flink.apache/v1beta1"])
def test_near_miss_api_version_with_a_near_miss_kind_is_an_error_too(api_version: str) -> None:
    parsed = parse_files({"orders.yaml": document(api_version, kind="FlinkDeploymnet")})
    assert parsed.not_managed == ()
    [problem] = parsed.problems
    assert problem.is_error and "did you mean 'FlinkDeployment'" in problem.message


@pytest.mark.parametrize("api_version", ["flink.example.com/v1", "apps/v1", "v1"])
def test_another_api_reusing_a_flink_kind_name_stays_not_managed(api_version: str) -> None:
    parsed = parse_files({"orders.yaml": document(api_version)})
    assert parsed.problems == ()
    [other] = parsed.not_managed
    assert other.reason == f"apiVersion {api_version}"


def test_a_near_miss_api_version_never_deletes_the_running_job() -> None:
    world = fake_world({"streaming/orders.yaml": app("orders")})
    assert run_pass(world.ports).ok
    world.source.commit({"streaming/orders.yaml": document("flink.apache.org.v1beta1")})
    result = run_pass(world.ports)
    assert not result.ok
    assert [e.action for e in result.executions if e.resource == ORDERS] != [Action.DELETE]
    assert [j.job_id for j in world.runtime.api_for(ORDERS).running_jobs()] == [
        job_id_for(ORDERS, 1)
    ]
    status = world.store.load(ORDERS)
    assert status is not None and status.error and "did you mean" in status.error


def test_plan_shows_the_error_not_a_delete_for_a_near_miss_api_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "streaming").mkdir(parents=True)
    run_git(repo, "init", "-q")
    for content in (app("orders"), document("flink.apache.org.v1beta1")):
        (repo / "streaming" / "orders.yaml").write_bytes(content)
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "change")
    code = main(["plan", "--repo", str(repo), "--base", "HEAD~1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "did you mean 'flink.apache.org/v1beta1'" in out
    assert "delete" not in out and "state=lost" not in out
