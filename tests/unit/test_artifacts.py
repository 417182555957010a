"""The artifact policy: which jar URIs gitflink may fetch or upload, as the operator allows
session-job artifacts (https only by default, no restricted hosts, no widening by a resource)."""

from __future__ import annotations

import ipaddress

import pytest

from gitflink.core import artifacts
from gitflink.core.parsing import parse_files
from gitflink.core.validation import validate
from gitflink.model.artifacts import ArtifactPolicy


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("/opt/flink/job.jar", "names no scheme"),
        ("job.jar", "names no scheme"),
        ("https://repo.example.com:port/job.jar", "not a valid URI"),
        ("http://repo.example.com/job.jar", "scheme 'http' is not allowed"),
        ("file:///var/run/secrets/kubernetes.io/serviceaccount/token", "scheme 'file'"),
        ("s3://bucket/job.jar", "scheme 's3'"),
        ("https://127.0.0.1/job.jar", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.7/job.jar", "private"),
        ("https://[::1]/job.jar", "loopback"),
        ("https://[::ffff:127.0.0.1]/job.jar", "loopback"),
        ("https:///job.jar", "names no host"),
    ],
)
def test_refused_by_default(uri: str, words: str) -> None:
    """The operator's artifact fetcher allows https only by default and refuses a URI without a
    scheme, one that does not parse, and hosts on loopback, link-local or private addresses."""
    refused = artifacts.refusal(uri)
    assert refused is not None and words in refused


@pytest.mark.parametrize(
    "uri",
    [
        "https://repo1.maven.org/maven2/org/apache/flink/x/1.0/x-1.0.jar",
        "https://93.184.216.34/job.jar",
        "local:///opt/flink/examples/streaming/StateMachineExample.jar",
    ],
)
def test_allowed_by_default(uri: str) -> None:
    """https to a public host (a name is checked once resolved, by the fetcher) and local://,
    the embedded runtime's job directory."""
    assert artifacts.refusal(uri) is None


def test_the_agent_may_widen_the_schemes_and_allow_internal_hosts() -> None:
    """The allow-list and the restricted-host check are the agent's settings."""
    wide = ArtifactPolicy(frozenset({"https", "http", "file"}), restricted_hosts=False)
    assert artifacts.refusal("file:///srv/jobs/job.jar", wide) is None
    assert artifacts.refusal("http://10.0.0.7/job.jar", wide) is None


@pytest.mark.parametrize(
    ("address", "restricted"),
    [
        ("127.0.0.1", True),
        ("169.254.169.254", True),
        ("192.168.1.2", True),
        ("fd00::1", True),
        ("0.0.0.0", True),
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
    ],
)
def test_restricted_addresses(address: str, restricted: bool) -> None:
    found = artifacts.restricted_address(ipaddress.ip_address(address))
    assert (found is not None) is restricted


SESSION = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: shared}
spec:
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
---
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: thief}
spec:
  deploymentName: shared
  flinkConfiguration:
    kubernetes.operator.user.artifacts.allowed-schemes: file
  job:
    jarURI: file:///var/run/secrets/kubernetes.io/serviceaccount/token
    parallelism: 1
"""


def test_a_resource_cannot_widen_the_policy_and_the_problem_points_at_the_jar() -> None:
    """A session job naming a local secret file is refused wherever its own configuration says
    otherwise: only the agent's policy counts."""
    parsed = parse_files({"j.yaml": SESSION.encode()})
    (problem,) = validate(parsed.desired)
    assert (problem.file, problem.line, problem.field) == ("j.yaml", 17, "spec.job.jarURI")
    assert "scheme 'file' is not allowed" in problem.message
    wide = ArtifactPolicy(frozenset({"https", "file"}))
    assert validate(parsed.desired, artifacts=wide) == []
