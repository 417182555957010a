"""Parsing: desired resources, not-managed documents and problems pinned to file:line:column."""

from __future__ import annotations

import pytest

from gitflink.core.parsing import parse_files
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.problems import Severity
from gitflink.model.resources import FlinkDeployment

ORDERS = b"""\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
  namespace: shop
spec:
  flinkVersion: v1_20
  flinkConfiguration:
    state.checkpoints.dir: file:///tmp/ckpt
  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
    upgradeMode: savepiont
    parallelism: 2
"""

SECRET = b"""\
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: hunter2
"""

VALID = b"""\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: payments
spec:
  flinkVersion: v1_20
"""


def test_example_from_the_issue_reads_file_line_column_field_and_message() -> None:
    result = parse_files({"sample-repo/apps/orders.yaml": ORDERS})
    assert [str(p) for p in result.problems] == [
        "sample-repo/apps/orders.yaml:12:5: spec.job.upgradeMode: "
        "'savepiont' is not one of stateless, savepoint, last-state"
    ]
    assert result.problems[0].resource == ResourceId(Kind.FLINK_DEPLOYMENT, "shop", "orders")


def test_invalid_file_stalls_only_its_own_resource() -> None:
    result = parse_files({"a.yaml": ORDERS + b"---\n" + VALID, "b.yaml": b"kind: [\n"})
    assert [d.id.name for d in result.desired] == ["payments"]
    assert result.broken == {ResourceId(Kind.FLINK_DEPLOYMENT, "shop", "orders")}
    assert [p.file for p in result.unattributed_errors] == ["b.yaml"]


def test_a_broken_document_never_hides_the_documents_after_it() -> None:
    text = VALID + b"---\nspec: [unclosed\n---\n" + VALID.replace(b"payments", b"refunds")
    result = parse_files({"multi.yaml": text})
    assert [d.id.name for d in result.desired] == ["payments", "refunds"]
    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [
        (8, "YAML syntax error")
    ]


def test_desired_records_file_and_the_line_where_its_document_starts() -> None:
    result = parse_files({"x.yaml": b"# leading comment\n---\n" + VALID})
    (item,) = result.desired
    assert (item.file, item.line) == ("x.yaml", 3)
    assert item.position("spec.flinkVersion") == (8, 3)
    assert item.position("spec.job.parallelism") == (7, 1)  # falls back to the closest parent


def test_other_kinds_are_listed_as_not_managed_never_as_errors() -> None:
    result = parse_files({"secrets.yaml": SECRET + b"---\nresources: [a.yaml]\n"})
    assert not result.problems
    assert [(n.file, n.index, n.kind, n.name) for n in result.not_managed] == [
        ("secrets.yaml", 0, "Secret", "creds"),
        ("secrets.yaml", 1, None, None),
    ]


def test_secret_values_never_appear_in_problems() -> None:
    duplicate = b"kind: Secret\nstringData:\n  password: hunter2\n  password: swordfish\n"
    conflict = VALID + (
        b"  flinkConfiguration:\n"
        b"    security.ssl.rest.key-password: hunter2\n"
        b"    security:\n      ssl.rest.key-password: swordfish\n"
    )
    result = parse_files({"s.yaml": duplicate, "c.yaml": conflict})
    assert len(result.problems) == 2
    for problem in result.problems:
        assert "hunter2" not in str(problem) and "swordfish" not in str(problem)


def test_nested_and_dotted_flink_configuration_are_the_same_model() -> None:
    dotted = VALID + b"  flinkConfiguration:\n    state.backend.type: rocksdb\n    a.b: 1\n"
    nested = VALID + b"  flinkConfiguration:\n    state:\n      backend:\n        type: rocksdb\n"
    nested += b"    a:\n      b: 1\n"
    first = parse_files({"d.yaml": dotted}).desired[0].resource
    second = parse_files({"n.yaml": nested}).desired[0].resource
    assert first == second
    assert isinstance(first, FlinkDeployment)
    assert first.spec.flink_configuration == {"state.backend.type": "rocksdb", "a.b": 1}


def test_conflicting_nested_and_dotted_key_is_a_problem_at_the_second_spelling() -> None:
    text = VALID + b"  flinkConfiguration:\n    a.b: 1\n    a:\n      b: 2\n"
    result = parse_files({"c.yaml": text})
    assert not result.desired
    (problem,) = result.problems
    assert (problem.line, problem.column, problem.field) == (10, 7, "spec.flinkConfiguration.a.b")
    assert "set twice with different values" in problem.message


def test_same_value_in_both_spellings_is_fine() -> None:
    text = VALID + b"  flinkConfiguration:\n    a.b: 1\n    a:\n      b: 1\n"
    assert parse_files({"c.yaml": text}).desired


def test_deprecated_flink_version_is_a_warning_and_the_resource_is_kept() -> None:
    result = parse_files({"old.yaml": VALID.replace(b"v1_20", b"v1_16")})
    assert len(result.desired) == 1
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING
    assert str(problem) == "old.yaml:6:3: warning: spec.flinkVersion: v1_16 is deprecated; " + (
        "upgrade to v1_19 or newer"
    )
    assert not result.has_errors


def test_all_problems_of_a_document_are_reported_at_once() -> None:
    text = VALID + b"  image: [x]\n  job:\n    paralelism: 1\n    state: paused\n"
    fields = [p.field for p in parse_files({"m.yaml": text}).problems]
    assert fields == ["spec.image", "spec.job.paralelism", "spec.job.state"]


def test_syntax_error_reports_the_line_of_the_error() -> None:
    text = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 1\n   b: 2\n"
    (problem,) = parse_files({"bad.yaml": text}).problems
    assert (problem.line, problem.column) == (5, 5)
    assert problem.message == "YAML syntax error: mapping values are not allowed here"


def test_bytes_that_are_not_utf8_are_a_problem_of_the_file() -> None:
    (problem,) = parse_files({"bin.yaml": b"\xff\xfe\x00garbage"}).problems
    assert (problem.file, problem.line, problem.column, problem.message) == (
        "bin.yaml",
        1,
        1,
        "not UTF-8 text (byte 0, 0xff)",
    )


def test_recursive_alias_is_a_problem_not_a_crash() -> None:
    result = parse_files({"loop.yaml": b"&x {a: *x}\n"})
    assert [p.message for p in result.problems] == ["recursive alias: a node contains itself"]


def test_canary_resources_are_left_to_the_operator() -> None:
    canary = b"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n"
    canary += b"  name: canary\n  labels:\n    flink.apache.org/canary: 'true'\n"
    result = parse_files({"canary.yaml": canary})
    assert not result.problems and not result.desired
    assert result.not_managed[0].reason == "operator canary resource"


def test_other_flink_kinds_are_not_managed_but_typos_are_errors() -> None:
    bluegreen = b"apiVersion: flink.apache.org/v1beta1\nkind: FlinkBlueGreenDeployment\n"
    typo = b"apiVersion: flink.apache.org/v1beta1\nkind: FlinkSesionJob\n"
    result = parse_files({"bg.yaml": bluegreen + b"metadata: {name: bg}\n", "t.yaml": typo})
    assert [n.kind for n in result.not_managed] == ["FlinkBlueGreenDeployment"]
    assert [p.message for p in result.problems] == [
        "unknown kind 'FlinkSesionJob'; did you mean 'FlinkSessionJob'?"
    ]


def test_unparseable_document_is_attributed_to_the_resource_it_names() -> None:
    text = b"kind: FlinkSessionJob\nmetadata:\n  namespace: team\n  name: clicks\nspec: [\n"
    (problem,) = parse_files({"j.yaml": text}).problems
    assert problem.resource == ResourceId(Kind.FLINK_SESSION_JOB, "team", "clicks")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  taskManager:\n    resource:\n      cpu: lots\n",
            "t.yaml:9:7: spec.taskManager.resource.cpu: expected a number, got 'lots'",
        ),
        (
            "  job:\n    allowNonRestoredState: maybe\n",
            "t.yaml:8:5: spec.job.allowNonRestoredState: expected true or false, got 'maybe'",
        ),
        (
            "  ingress:\n    template: x\n    tls:\n      - 1\n",
            "t.yaml:10:9: spec.ingress.tls[0]: expected a mapping, got an integer",
        ),
        (
            "  job:\n    args: {a: 1}\n",
            "t.yaml:8:5: spec.job.args: expected a list, got a mapping",
        ),
        (
            "  jobManager:\n    replicas: 1.5\n",
            "t.yaml:8:5: spec.jobManager.replicas: expected an integer, got 1.5",
        ),
        (
            "  jobManager:\n    podTemplate: {any: {thing: [goes]}}\n    repliacs: 2\n",
            "t.yaml:9:5: spec.jobManager.repliacs: unknown field; did you mean 'replicas'?",
        ),
        (
            "  mode: kubernetes\n",
            "t.yaml:7:3: spec.mode: 'kubernetes' is not one of native, standalone",
        ),
    ],
)
def test_type_errors_read_in_yaml_terms_at_the_offending_key(extra: str, expected: str) -> None:
    result = parse_files({"t.yaml": VALID + extra.encode()})
    assert [str(p) for p in result.problems] == [expected]
