"""`parallelism: 0` next to taskManager.replicas means unset, as upstream reads it."""

from __future__ import annotations

from gitflink.core.parsing import parse_files
from gitflink.core.validation import validate

DEPLOYMENT = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
spec:
  flinkVersion: v1_20
  jobManager:
    resource: {{memory: 1g, cpu: 1}}
  taskManager:
    resource: {{memory: 1g, cpu: 1}}
{replicas}  job:
    jarURI: local:///opt/flink/job.jar
    parallelism: 0
"""


def _problems(text: str) -> list[str]:
    parsed = parse_files({"d.yaml": text.encode()})
    return [str(p) for p in [*parsed.problems, *validate(parsed.desired, broken=parsed.broken)]]


def test_zero_parallelism_next_to_replicas_is_unset() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: replicas 1 with parallelism 0
    succeeds."""
    text = DEPLOYMENT.format(replicas="    replicas: 2\n")
    assert _problems(text) == []
    (desired,) = parse_files({"d.yaml": text.encode()}).desired
    job = desired.resource.spec.job  # type: ignore[union-attr]
    assert job is not None and job.parallelism is None
    assert "parallelism" not in desired.resource.to_manifest()["spec"]["job"]


def test_zero_parallelism_without_replicas_is_refused() -> None:
    """DefaultValidatorTest.testValidationWithoutDefaultConfig: "Job parallelism must be larger
    than 0"."""
    (problem,) = _problems(DEPLOYMENT.format(replicas=""))
    assert "d.yaml:13:5: spec.job.parallelism: must be greater than 0, got 0" in problem
