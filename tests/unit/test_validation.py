"""Validation rules after upstream's DefaultValidator, and the cross-file checks."""

from __future__ import annotations

from collections.abc import Sequence

from gitflink.core.parsing import Desired, parse_files
from gitflink.core.validation import ha_enabled, validate
from gitflink.model.problems import Problem, Severity

CLUSTER = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  flinkVersion: v1_20
  flinkConfiguration:
    jobmanager.memory.process.size: 1g
    taskmanager.memory.process.size: 1g
    execution.checkpointing.dir: file:///tmp/ckpt
"""
SESSION_JOB = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata:
  name: clicks
  namespace: {namespace}
spec:
  deploymentName: {cluster}
  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
    parallelism: 1
    upgradeMode: last-state
"""


def desired_from(files: dict[str, str]) -> Sequence[Desired]:
    parsed = parse_files({name: text.encode() for name, text in files.items()})
    assert not parsed.problems, parsed.problems
    return parsed.desired


def messages(problems: Sequence[Problem]) -> list[str]:
    return [str(p) for p in problems]


def test_session_job_finds_its_session_cluster_in_another_file() -> None:
    desired = desired_from(
        {
            "clusters/session.yaml": CLUSTER.format(name="shared", namespace="team"),
            "jobs/clicks.yaml": SESSION_JOB.format(namespace="team", cluster="shared"),
        }
    )
    assert validate(desired) == []


def test_session_job_uses_the_clusters_configuration_for_its_checkpoint_dir() -> None:
    cluster = CLUSTER.format(name="shared", namespace="team").replace(
        "    execution.checkpointing.dir: file:///tmp/ckpt\n", "    a: b\n"
    )
    desired = desired_from(
        {"c.yaml": cluster, "j.yaml": SESSION_JOB.format(namespace="team", cluster="shared")}
    )
    assert messages(validate(desired)) == [
        "j.yaml:11:5: spec.job.upgradeMode: last-state needs a checkpoint directory: "
        "set execution.checkpointing.dir or state.checkpoints.dir"
    ]


def test_session_job_whose_cluster_failed_to_parse_says_so() -> None:
    files = {
        "c.yaml": CLUSTER.format(name="shared", namespace="team") + "  job: 3\n",
        "j.yaml": SESSION_JOB.format(namespace="team", cluster="shared"),
    }
    parsed = parse_files({k: v.encode() for k, v in files.items()})
    (problem,) = validate(parsed.desired, broken=parsed.broken)
    assert problem.message == "session cluster team/shared has errors of its own (see above)"


def test_duplicate_resource_names_both_files() -> None:
    text = CLUSTER.format(name="orders", namespace="shop")
    (problem,) = validate(desired_from({"b.yaml": text, "a.yaml": text}))
    assert str(problem) == (
        "b.yaml:4:3: metadata.name: FlinkDeployment/shop/orders is also defined in a.yaml:1"
    )


def test_same_name_in_other_namespace_or_kind_is_no_duplicate() -> None:
    files = {
        "a.yaml": CLUSTER.format(name="orders", namespace="shop"),
        "b.yaml": CLUSTER.format(name="orders", namespace="test"),
        "c.yaml": SESSION_JOB.format(namespace="shop", cluster="missing").replace(
            "clicks", "orders"
        ),
    }
    problems = validate(desired_from(files))
    assert [p.file for p in problems] == ["c.yaml"]  # only the missing cluster


def test_name_rule_is_upstreams_45_character_dns_label() -> None:
    ok = CLUSTER.format(name="a" * 45, namespace="shop")
    too_long = CLUSTER.format(name="b" * 46, namespace="shop")
    problems = validate(desired_from({"ok.yaml": ok, "long.yaml": too_long}))
    assert [(p.file, p.field) for p in problems] == [("long.yaml", "metadata.name")]


def test_ha_is_any_mode_but_none_under_the_new_or_legacy_key() -> None:
    assert ha_enabled({"high-availability.type": "kubernetes"})
    assert ha_enabled({"high-availability": "zookeeper"})
    assert ha_enabled({"high-availability.type": "org.example.MyHaServicesFactory"})
    assert not ha_enabled({"high-availability.type": "NONE"})
    assert not ha_enabled({"high-availability.storageDir": "file:///ha"})
    assert not ha_enabled({})


def test_standby_jobmanagers_are_fine_with_ha() -> None:
    text = CLUSTER.format(name="orders", namespace="shop") + (
        "    high-availability.type: kubernetes\n  jobManager:\n    replicas: 2\n"
    )
    assert validate(desired_from({"a.yaml": text})) == []


def test_last_state_does_not_need_ha_any_more() -> None:
    text = CLUSTER.format(name="orders", namespace="shop") + (
        "  job:\n    jarURI: local:///a.jar\n    parallelism: 1\n    upgradeMode: last-state\n"
    )
    assert validate(desired_from({"a.yaml": text})) == []


def test_parallelism_may_be_left_to_taskmanager_replicas() -> None:
    text = CLUSTER.format(name="orders", namespace="shop") + (
        "  mode: standalone\n  taskManager:\n    replicas: 2\n  job:\n    jarURI: local:///a.jar\n"
    )
    assert validate(desired_from({"a.yaml": text})) == []


def test_snapshot_of_an_unknown_job_is_only_a_warning() -> None:
    snapshot = (
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata:\n  name: s\n"
        "spec:\n  jobReference:\n    kind: FlinkDeployment\n    name: elsewhere\n  savepoint: {}\n"
    )
    (problem,) = validate(desired_from({"s.yaml": snapshot}))
    assert problem.severity is Severity.WARNING
    assert (problem.line, problem.field) == (8, "spec.jobReference.name")


def test_every_rule_runs_instead_of_stopping_at_the_first() -> None:
    text = CLUSTER.format(name="Orders", namespace="shop").replace("v1_20", "null") + (
        "    kubernetes.namespace: x\n  jobManager:\n    replicas: 2\n"
    )
    fields = [p.field for p in validate(desired_from({"a.yaml": text}))]
    assert fields == [
        "metadata.name",
        "spec.flinkVersion",
        "spec.flinkConfiguration.kubernetes.namespace",
        "spec.jobManager.replicas",
    ]
