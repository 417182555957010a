"""Manifests written for the Flink Kubernetes Operator load unchanged: its own examples."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gitflink.core.parsing import Desired, parse_files
from gitflink.core.validation import validate
from gitflink.model.problems import Severity
from gitflink.model.resources import FlinkSessionJob

EXAMPLES = Path(__file__).resolve().parents[3] / "shared/upstream-operator/examples"
FLINK_KINDS = ("kind: FlinkDeployment", "kind: FlinkSessionJob", "kind: FlinkStateSnapshot")
TOP_LEVEL_FLINK_KIND = re.compile(r"^kind: Flink(Deployment|SessionJob|StateSnapshot)\b", re.M)


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        raise RuntimeError(
            f"upstream examples missing: {EXAMPLES} (see ../shared/upstream-operator)"
        )
    return sorted(p for p in EXAMPLES.rglob("*.y*ml") if p.is_file())


def flink_examples() -> list[Path]:
    return [p for p in example_files() if TOP_LEVEL_FLINK_KIND.search(p.read_text())]


def read(paths: list[Path]) -> dict[str, bytes]:
    return {str(p.relative_to(EXAMPLES)): p.read_bytes() for p in paths}


def test_examples_directory_holds_all_three_kinds() -> None:
    kinds = {k for p in flink_examples() for k in FLINK_KINDS if k in p.read_text()}
    assert kinds == set(FLINK_KINDS)


@pytest.mark.parametrize("path", flink_examples(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_upstream_example_parses_and_validates(path: Path) -> None:
    parsed = parse_files(read([path]))
    assert not parsed.problems, "\n".join(map(str, parsed.problems))
    # Session jobs are applied next to the session cluster they name, often in another file.
    companions = read(clusters_for(parsed.desired))
    context = parse_files({**companions, **read([path])})
    errors = [
        p
        for p in validate(context.desired, broken=context.broken)
        if p.severity is Severity.ERROR and p.file == str(path.relative_to(EXAMPLES))
    ]
    assert not errors, "\n".join(map(str, errors))
    assert parsed.desired or parsed.not_managed


def clusters_for(desired: tuple[Desired, ...]) -> list[Path]:
    wanted = {
        d.resource.spec.deployment_name for d in desired if isinstance(d.resource, FlinkSessionJob)
    }
    here = {d.id.name for d in desired}
    if not wanted - here:
        return []
    everything = parse_files(read(flink_examples())).desired
    return [EXAMPLES / d.file for d in everything if d.id.name in wanted - here]


def test_every_flink_resource_of_the_examples_is_desired_except_the_canary() -> None:
    parsed = parse_files(read(example_files()))
    assert not parsed.problems
    assert len(parsed.desired) >= 20
    canaries = [n for n in parsed.not_managed if n.kind == "FlinkDeployment"]
    assert [(n.name, n.reason) for n in canaries] == [("canary", "operator canary resource")]
    kinds = {n.kind for n in parsed.not_managed}
    assert {"Secret", "Certificate", "Deployment", None} <= kinds


def dump(manifest: dict[str, object]) -> bytes:
    out = io.BytesIO()
    YAML(typ="rt").dump(manifest, out)
    return out.getvalue()


def every_example_resource() -> list[Desired]:
    return [d for p in flink_examples() for d in parse_files(read([p])).desired]


@pytest.mark.parametrize("item", every_example_resource(), ids=lambda d: f"{d.file}:{d.line}")
def test_parse_dump_parse_gives_the_same_model(item: Desired) -> None:
    again = parse_files({"dumped.yaml": dump(item.resource.to_manifest())})
    assert not again.problems, "\n".join(map(str, again.problems))
    assert [d.resource for d in again.desired] == [item.resource]
