"""Resources, ingress and autoscaler rules, case by case as the operator's own tests decide them
(each docstring names the upstream test method the case was written from)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitflink.core.parsing import parse_files
from gitflink.core.validation import validate


def deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "flinkVersion": "v1_20",
        "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
        "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
        "job": {"jarURI": "local:///opt/job.jar", "parallelism": 2},
    }
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders", "namespace": "shop"},
        "spec": {**base, **spec},
    }


def problems(*docs: dict[str, Any]) -> list[str]:
    text = yaml.safe_dump_all(docs).encode()
    parsed = parse_files({"f.yaml": text})
    found = [*parsed.problems, *validate(parsed.desired, broken=parsed.broken)]
    return [f"{p.field}: {p.message}" for p in found if p.is_error]


def with_memory(component: str, memory: str | None, **config: str) -> dict[str, Any]:
    resource = {"cpu": 1} if memory is None else {"memory": memory}
    return deployment(**{component: {"resource": resource}}, flinkConfiguration=config)


@pytest.mark.parametrize("memory", ["1G", "100", "1Gi", "2048m", "512 mb", "1.5Gi"])
def test_memory_in_flink_or_kubernetes_spelling_is_accepted(memory: str) -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "1G", "100" and "1Gi" succeed."""
    resource = {"resource": {"memory": memory}}
    assert problems(deployment(jobManager=resource, taskManager=resource)) == []


def test_unparsable_memory_is_refused_for_each_component() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "invalid" memory is a parse
    error for the TaskManager and for the JobManager."""
    for component in ("taskManager", "jobManager"):
        (found,) = problems(with_memory(component, "invalid"))
        assert found.startswith(f"spec.{component}.resource.memory: cannot be parsed")


def test_memory_defined_nowhere_is_refused_but_flink_options_may_define_it() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: no resource memory fails, unless
    jobmanager.memory.heap.size (JobManager) or the total Flink memory, or task heap and managed
    memory together (TaskManager), are set; task heap alone is not enough."""
    (jm,) = problems(with_memory("jobManager", None))
    assert jm.startswith("spec.jobManager: memory is defined nowhere")
    assert problems(with_memory("jobManager", None, **{"jobmanager.memory.heap.size": "2g"})) == []
    (tm,) = problems(
        with_memory("taskManager", None, **{"taskmanager.memory.task.heap.size": "1g"})
    )
    assert tm.startswith("spec.taskManager: memory is defined nowhere")
    both = {"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g"}
    assert problems(with_memory("taskManager", None, **both)) == []
    total = {"taskmanager.memory.flink.size": "2g"}
    assert problems(with_memory("taskManager", None, **total)) == []


def test_resources_requests_define_memory_as_upstreams_examples_do() -> None:
    """The upstream examples (basic.yaml) size pods with `resources.requests` only."""
    requests = {"resources": {"requests": {"memory": "2048m", "cpu": "1"}}}
    assert problems(deployment(jobManager=requests, taskManager=requests)) == []


def test_unparsable_ephemeral_storage_is_refused() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: ephemeral storage "abc" is a
    parse error for either component."""
    resource = {"resource": {"memory": "1g", "ephemeralStorage": "abc"}}
    (found,) = problems(deployment(jobManager=resource))
    assert found.startswith("spec.jobManager.resource.ephemeralStorage: cannot be parsed")
    assert (
        problems(deployment(jobManager={"resource": {"memory": "1g", "ephemeralStorage": "2Gi"}}))
        == []
    )


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ({"memory": "0", "cpu": 1}, "memory"),
        ({"memory": "-1Gi", "cpu": 1}, "memory"),
        ({"memory": "1g", "cpu": -0.5}, "cpu"),
        ({"memory": "1g", "ephemeralStorage": "0"}, "ephemeralStorage"),
    ],
)
def test_zero_or_negative_amounts_are_refused(resource: dict[str, Any], field: str) -> None:
    """The operator hands these amounts to Kubernetes and Flink, which refuse them."""
    (found,) = problems(deployment(taskManager={"resource": resource}))
    assert found.startswith(f"spec.taskManager.resource.{field}: must be greater than 0")


def test_a_request_above_its_limit_is_refused_and_equal_is_fine() -> None:
    """Kubernetes refuses a container whose request exceeds its limit (the pod never starts)."""
    above = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1500m", "memory": "1Gi"}}
    (found,) = problems(deployment(taskManager={"resources": above}))
    expected = "must be less than or equal to the limit ('1500m')"
    assert found == f"spec.taskManager.resources.requests.cpu: {expected}"
    equal = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": 1, "memory": "1024Mi"}}
    assert problems(deployment(taskManager={"resources": equal})) == []


@pytest.mark.parametrize(
    ("template", "valid"),
    [
        ("example.com:port", False),
        ("example.com/{{namespace}}/{{name}}", True),
        ("{{name}}.{{namespace}}.flink.k8s.io", True),
        ("/{{namespace}}/{{name}}(/|$)(.*)", True),
        ("https://flink.example.com:8443/{{name}}", True),
        ("flink.example.com:99999", False),
    ],
)
def test_ingress_template_must_form_a_url_once_filled_in(template: str, valid: bool) -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "example.com:port" is refused,
    "example.com/{{namespace}}/{{name}}" accepted."""
    found = problems(deployment(ingress={"template": template}))
    assert (found == []) is valid, found


def autoscaled(**config: str) -> dict[str, Any]:
    """The operator test's autoscaler baseline configuration, plus `config`."""
    base = {
        "job.autoscaler.enabled": "true",
        "job.autoscaler.scale-up.max-factor": "100000.0",
        "job.autoscaler.scale-down.max-factor": "0.6",
        "job.autoscaler.utilization.target": "0.7",
        "job.autoscaler.target.utilization.boundary": "0.4",
    }
    return deployment(flinkConfiguration={**base, **config})


def test_the_autoscaler_baseline_configuration_is_valid() -> None:
    """DefaultValidatorTest.testAutoScalerDeployment."""
    assert problems(autoscaled()) == []


@pytest.mark.parametrize(
    "key",
    [
        "job.autoscaler.scale-down.max-factor",
        "job.autoscaler.scale-up.max-factor",
        "job.autoscaler.utilization.target",
        "job.autoscaler.target.utilization.boundary",
    ],
)
def test_negative_factors_and_utilization_are_refused(key: str) -> None:
    """DefaultValidatorTest.testAutoScalerDeploymentWithInvalidNegativeScaleDownFactor, ...
    NegativeScaleUpFactor, ...NegativeUtilization and ...NegativeUtilizationBoundary."""
    (found,) = problems(autoscaled(**{key: "-0.1"}))
    assert found.startswith(f"spec.flinkConfiguration.{key}: -0.1 is out of range")


def test_utilization_bounds_surround_the_target() -> None:
    """AutoscalerValidator: utilization.max within [target, 1], utilization.min within
    [0, target]; the GC and heap thresholds within [0, 1]."""
    (high,) = problems(autoscaled(**{"job.autoscaler.utilization.max": "0.5"}))
    assert "utilization.max: 0.5 is out of range: must be within [0.7, 1]" in high
    (low,) = problems(autoscaled(**{"job.autoscaler.utilization.min": "0.9"}))
    assert "utilization.min: 0.9 is out of range: must be within [0, 0.7]" in low
    (gc,) = problems(autoscaled(**{"job.autoscaler.memory.gc-pressure.threshold": "2"}))
    assert "gc-pressure.threshold" in gc


def test_feature_options_are_checked_only_when_their_feature_is_on() -> None:
    """AutoscalerValidator (FLINK-39826): observed-scalability.coefficient-min is checked only
    when observed scalability is enabled."""
    key = "job.autoscaler.observed-scalability.coefficient-min"
    assert problems(autoscaled(**{key: "5"})) == []
    on = {key: "5", "job.autoscaler.observed-scalability.enabled": "true"}
    (found,) = problems(autoscaled(**on))
    assert found.startswith(f"spec.flinkConfiguration.{key}: 5 is out of range")


def test_nothing_is_checked_while_the_autoscaler_is_off() -> None:
    """DefaultValidatorTest.testNonEnabledAutoScalerDeploymentJob and
    testDisabledEnabledAutoScalerDeploymentJob."""
    bad = {
        "job.autoscaler.scale-down.max-factor": "-1.6",
        "job.autoscaler.utilization.target": "-1.6",
    }
    assert problems(deployment(flinkConfiguration=bad)) == []
    assert problems(deployment(flinkConfiguration={**bad, "job.autoscaler.enabled": "false"})) == []


@pytest.mark.parametrize(
    ("periods", "valid"),
    [
        ("12:00-10:00", False),
        ("9:00-17:30", True),
        ("09:00:00-17:30:00;20:00-21:00", True),
        ("* * 9-17 ? * MON-FRI", True),
        ("25:00-26:00", False),
        ("weekends", False),
    ],
)
def test_excluded_periods_are_daily_ranges_or_cron_expressions(periods: str, valid: bool) -> None:
    """DefaultValidatorTest.testAutoScalerDeploymentWithInvalidExcludedPeriods: "12:00-10:00"
    is refused."""
    found = problems(autoscaled(**{"job.autoscaler.excluded.periods": periods}))
    assert (found == []) is valid, found


def test_parallelism_bounds_are_whole_numbers_in_order() -> None:
    """The autoscaler's vertex parallelism bounds: at least 1, minimum not above maximum."""
    (order,) = problems(
        autoscaled(
            **{
                "job.autoscaler.vertex.min-parallelism": "8",
                "job.autoscaler.vertex.max-parallelism": "4",
            }
        )
    )
    assert "vertex.min-parallelism: 8 is above job.autoscaler.vertex.max-parallelism (4)" in order
    (zero,) = problems(autoscaled(**{"job.autoscaler.vertex.max-parallelism": "0"}))
    assert "vertex.max-parallelism: 0 is out of range" in zero


def test_a_metric_window_shorter_than_the_reconcile_interval_is_refused() -> None:
    """AutoscalerValidator (FLINK-39826): a window under the reconcile interval keeps fewer than
    two metric samples, so the autoscaler would never act."""
    (found,) = problems(autoscaled(**{"job.autoscaler.metrics.window": "30 s"}))
    assert "metrics.window: 30 s is shorter than the reconcile interval (60 s)" in found
    longer = {
        "job.autoscaler.metrics.window": "5 min",
        "kubernetes.operator.reconcile.interval": "2 min",
    }
    assert problems(autoscaled(**longer)) == []
    (interval,) = problems(autoscaled(**{"kubernetes.operator.reconcile.interval": "20 min"}))
    assert "metrics.window: 15 min is shorter than the reconcile interval (20 min)" in interval


def session_pair(cluster_config: dict[str, str], job_config: dict[str, str]) -> list[str]:
    cluster = deployment(flinkConfiguration=cluster_config)
    del cluster["spec"]["job"]
    job = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "clicks", "namespace": "shop"},
        "spec": {
            "deploymentName": "orders",
            "job": {"jarURI": "local:///opt/job.jar", "parallelism": 1},
            "flinkConfiguration": job_config,
        },
    }
    return problems(cluster, job)


def test_session_jobs_are_checked_against_the_merged_configuration() -> None:
    """DefaultValidatorTest.testValidateSessionJobWithInvalidNegativeScaleDownFactor and
    testNonEnabledAutoScalerSessionJob: the cluster enables the autoscaler, the job's own value
    is checked; disabled, nothing is."""
    on = {"job.autoscaler.enabled": "true"}
    (found,) = session_pair(on, {"job.autoscaler.scale-down.max-factor": "-0.1"})
    assert found.startswith("spec.flinkConfiguration.job.autoscaler.scale-down.max-factor")
    assert session_pair({}, {"job.autoscaler.scale-down.max-factor": "-0.1"}) == []
