"""The parser never raises: arbitrary bytes, arbitrary YAML, and mangled Flink manifests."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from gitflink.core.parsing import ParseResult, parse_files
from gitflink.core.validation import validate

BASE: dict[str, Any] = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {
        "flinkVersion": "v1_20",
        "flinkConfiguration": {"state.checkpoints.dir": "file:///tmp", "state": {"x": 1}},
        "jobManager": {"replicas": 1},
        "job": {"jarURI": "local:///a.jar", "parallelism": 2, "upgradeMode": "savepoint"},
    },
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
keys = st.one_of(
    st.sampled_from(["apiVersion", "kind", "metadata", "name", "spec", "job", "parallelism"]),
    st.text(max_size=10),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
yaml_tokens = st.sampled_from(
    [
        "---\n",
        "...\n",
        ": ",
        "- ",
        "  ",
        "\n",
        "&a ",
        "*a ",
        "!tag ",
        "{",
        "}",
        "[",
        "]",
        "'",
        '"',
        "|\n",
        ">-\n",
        "#",
        "%YAML 1.2\n",
        "? ",
        "<<: ",
        "kind: FlinkDeployment\n",
        "\t",
    ]
)


def dump(data: Any) -> bytes:
    out = io.BytesIO()
    YAML(typ="rt").dump(data, out)
    return out.getvalue()


def parse_and_validate(files: dict[str, bytes]) -> ParseResult:
    result = parse_files(files)
    validate(result.desired, broken=result.broken)
    for problem in result.problems:
        str(problem)
    return result


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    parse_and_validate({"f.yaml": raw})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(yaml_tokens, st.text(max_size=8)), max_size=30))
def test_arbitrary_yaml_looking_text_never_raises(parts: list[str]) -> None:
    parse_and_validate({"f.yaml": "".join(parts).encode()})


@settings(max_examples=200, deadline=None)
@given(st.lists(yaml_values, min_size=1, max_size=3))
def test_arbitrary_yaml_documents_never_raise(documents: list[Any]) -> None:
    text = b"---\n".join(dump(doc) for doc in documents)
    parse_and_validate({"f.yaml": text})


def mangle(data: Any, path: list[str | int], replacement: Any) -> Any:
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and isinstance(head, str):
        return {**data, head: mangle(data.get(head), rest, replacement)}
    return replacement


paths = st.lists(
    st.sampled_from(
        [
            "spec",
            "job",
            "metadata",
            "name",
            "flinkConfiguration",
            "state",
            "parallelism",
            "jobManager",
            "replicas",
            "upgradeMode",
            "kind",
        ]
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(paths, yaml_values)
def test_flink_manifest_with_any_field_replaced_never_raises(path: list[str], value: Any) -> None:
    result = parse_and_validate({"f.yaml": dump(mangle(BASE, list(path), value))})
    for problem in result.problems:
        assert problem.line >= 0 and problem.column >= 0
        assert problem.file == "f.yaml"
