"""Flink resources from the upstream operator's examples and CRDs (../shared/upstream-operator)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream-operator"
UPSTREAM_EXAMPLES = UPSTREAM / "examples"
UPSTREAM_CRDS = UPSTREAM / "crds"
FLINK_KINDS = ("FlinkDeployment", "FlinkSessionJob", "FlinkStateSnapshot")


def load_yaml_documents(path: Path) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")))


def upstream_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Flink resource document in the upstream examples, with its file."""
    for path in sorted(UPSTREAM_EXAMPLES.rglob("*.y*ml")):
        for doc in load_yaml_documents(path):
            if isinstance(doc, dict) and doc.get("kind") in FLINK_KINDS:
                yield path, doc


def is_canary(doc: dict[str, Any]) -> bool:
    """Upstream's health-check canaries carry no spec; the operator never deploys them."""
    labels = (doc.get("metadata") or {}).get("labels") or {}
    return str(labels.get("flink.apache.org/canary")).lower() == "true"


@cache
def upstream_crd(plural: str) -> dict[str, Any]:
    """Parsed once per session (the FlinkDeployment CRD is 11,000 lines); do not mutate."""
    (crd,) = load_yaml_documents(UPSTREAM_CRDS / f"{plural}.flink.apache.org-v1.yml")
    assert isinstance(crd, dict)
    return crd
