"""sample-repo/ is a valid, realistic GitOps repository and keeps its documented conventions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from support.upstream_examples import load_yaml_documents

from gitflink.cli import main
from gitflink.core.parsing import ParseResult, parse_files
from gitflink.core.validation import validate
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob, UpgradeMode

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample-repo"
MANIFESTS = sorted(p for p in SAMPLE.rglob("*.yaml") if "ci" not in p.relative_to(SAMPLE).parts)
TEST_JAR = "local:///opt/flink/examples/streaming/gitflink-testjob.jar"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def parsed() -> ParseResult:
    return parse_files({p.relative_to(ROOT).as_posix(): p.read_bytes() for p in MANIFESTS})


def deployments(parsed: ParseResult) -> dict[str, FlinkDeployment]:
    return {
        d.id.short: d.resource for d in parsed.desired if isinstance(d.resource, FlinkDeployment)
    }


def session_jobs(parsed: ParseResult) -> dict[str, FlinkSessionJob]:
    return {
        d.id.short: d.resource for d in parsed.desired if isinstance(d.resource, FlinkSessionJob)
    }


def test_sample_repo_parses_and_validates_without_any_problem(parsed: ParseResult) -> None:
    assert [str(p) for p in parsed.problems] == []
    assert [str(p) for p in validate(parsed.desired)] == []
    assert [n.file for n in parsed.not_managed] == ["sample-repo/defaults.yaml"]


def test_validate_command_accepts_the_sample_repo(capsys: Any) -> None:
    assert main(["validate", "--no-plugins", str(SAMPLE)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_sample_repo_has_the_documented_resources(parsed: ParseResult) -> None:
    assert sorted(deployments(parsed)) == [
        "analytics/analytics-session",
        "streaming/clickstream",
        "streaming/fraud-detection",
        "streaming/orders",
    ]
    assert sorted(session_jobs(parsed)) == ["analytics/page-views", "analytics/sessionizer"]
    for path in MANIFESTS:
        namespace = path.relative_to(SAMPLE).parts[0]
        for doc in load_yaml_documents(path):
            if "kind" in doc:  # each directory is one namespace, set explicitly
                assert doc["metadata"]["namespace"] == namespace, path


def test_orders_upgrades_with_savepoints_and_has_both_state_directories(
    parsed: ParseResult,
) -> None:
    orders = deployments(parsed)["streaming/orders"].spec
    assert orders.job is not None
    assert orders.job.upgrade_mode is UpgradeMode.SAVEPOINT
    conf = orders.flink_configuration
    assert conf["state.checkpoints.dir"] and conf["state.savepoints.dir"]


def test_there_is_a_stateless_job_on_flink_2(parsed: ParseResult) -> None:
    clickstream = deployments(parsed)["streaming/clickstream"].spec
    assert clickstream.job is not None
    assert clickstream.job.upgrade_mode is UpgradeMode.STATELESS
    assert clickstream.flink_version is not None and clickstream.flink_version.at_least(2, 0)
    others = [d for k, d in deployments(parsed).items() if k != "streaming/clickstream"]
    assert {d.spec.flink_version.value for d in others if d.spec.flink_version} == {"v1_20"}


def test_ha_example_runs_two_jobmanagers_with_kubernetes_ha(parsed: ParseResult) -> None:
    spec = deployments(parsed)["streaming/fraud-detection"].spec
    assert spec.job_manager.replicas == 2
    assert spec.flink_configuration["high-availability.type"] == "kubernetes"
    assert spec.flink_configuration["high-availability.storageDir"]


def test_session_cluster_hosts_two_session_jobs(parsed: ParseResult) -> None:
    cluster = deployments(parsed)["analytics/analytics-session"]
    assert cluster.spec.is_session_cluster
    jobs = session_jobs(parsed).values()
    assert {j.spec.deployment_name for j in jobs} == {cluster.metadata.name}
    assert {j.spec.job.upgrade_mode for j in jobs} == {UpgradeMode.SAVEPOINT, UpgradeMode.STATELESS}


def test_every_job_runs_the_embedded_test_jar_with_small_resources(parsed: ParseResult) -> None:
    jobs = [d.spec.job for d in deployments(parsed).values() if d.spec.job]
    jobs += [j.spec.job for j in session_jobs(parsed).values()]
    assert len(jobs) == 5
    for job in jobs:
        assert job.jar_uri == TEST_JAR
        assert job.entry_class == "gitflink.testjob.CounterJob"
        assert job.args is not None and job.args[:2] == ["--rate", job.args[1]]
        assert job.parallelism is not None and job.parallelism <= 2
    for deployment in deployments(parsed).values():
        for part in (deployment.spec.job_manager, deployment.spec.task_manager):
            assert part.resource is not None and part.resource.cpu is not None
            assert part.resource.cpu <= 1


def test_every_deployment_repeats_the_shared_defaults(parsed: ParseResult) -> None:
    (defaults,) = load_yaml_documents(SAMPLE / "defaults.yaml")
    overrides: dict[str, list[str]] = defaults["overrides"]
    for name, deployment in deployments(parsed).items():
        conf = deployment.spec.flink_configuration
        for key, value in defaults["flinkConfiguration"].items():
            if key in overrides.get(name, []):
                assert key in conf and conf[key] != value, f"{name}: {key} is not overridden"
            else:
                assert conf.get(key) == value, f"{name}: {key} differs from ../defaults.yaml"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(SAMPLE).as_posix())
def test_manifest_names_a_schema_for_editors_that_accepts_it(path: Path) -> None:
    if path.name == "defaults.yaml":
        assert not MODELINE.search(path.read_text())
        return
    (target,) = MODELINE.findall(path.read_text())
    schema_file = (path.parent / target).resolve()
    assert schema_file.parent == ROOT / "schemas"
    schema = Draft202012Validator(json.loads(schema_file.read_text()))
    for doc in load_yaml_documents(path):
        assert f"{doc['kind'].lower()}.json" == schema_file.name
        assert [e.message for e in schema.iter_errors(doc)] == []
