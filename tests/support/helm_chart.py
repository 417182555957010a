"""The Helm chart (charts/gitflink) through Helm's own Go SDK (helm-python-sdk bundles it as a
native library: no helm binary), offline: lint, render into objects, and the values table of
docs/helm.md generated from values.schema.json.

`python tests/support/helm_chart.py` rewrites that table after a change of the schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "gitflink"
HELM_DOC = ROOT / "docs" / "helm.md"
BEGIN, END = "<!-- values table: begin -->", "<!-- values table: end -->"
REPO = "https://git.example.com/team/flink-apps.git"


def with_repo(values: dict[str, Any] | None = None) -> dict[str, Any]:
    """`values` with git.repo set (the chart requires it)."""
    values = json.loads(json.dumps(values or {}))
    values.setdefault("git", {}).setdefault("repo", REPO)
    return values


def lint_findings(values: dict[str, Any]) -> list[str]:
    """Lint messages above info (warnings and errors), strict as `helm lint --strict`."""
    report = helm.lint(CHART, values, strict=True)
    return [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]


def render(
    values: dict[str, Any], *, namespace: str = "gitflink", name: str = "gitflink"
) -> list[dict[str, Any]]:
    """Every object `helm template` would print, in template order."""
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        manifests = chart.render(values, name=name, namespace=namespace, is_install=True)
    yaml = YAML(typ="safe")
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.load_all(text)
        if doc
    ]


def find(objects: list[dict[str, Any]], kind: str, namespace: str | None = None) -> list[Any]:
    return [
        o
        for o in objects
        if o["kind"] == kind and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]


def env_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The agent container's environment: name -> value (or valueFrom)."""
    (deployment,) = find(objects, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(API group, resource[/subresource], verb) for every rule, resourceNames ignored."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


def _rows(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str, str]]:
    defaults = YAML(typ="safe").load((CHART / "values.yaml").read_text())
    for name, spec in properties.items():
        key = f"{prefix}{name}"
        if spec.get("type") == "object" and "properties" in spec:
            yield from _rows(spec["properties"], f"{key}.")
            continue
        default: Any = defaults
        for part in key.split("."):
            default = default.get(part) if isinstance(default, dict) else None
        shown = json.dumps(default) if default not in (None, "", [], {}) else ""
        yield key, shown, spec.get("description", "")


def values_table() -> str:
    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = ["| value | default | what |", "|---|---|---|"]
    for key, default, what in _rows(schema["properties"]):
        if key == "global":
            continue
        shown = f"`{default}`" if default else ""
        escaped = what.replace("|", "\\|")
        lines.append(f"| `{key}` | {shown} | {escaped} |")
    return "\n".join(lines)


def documented_table() -> str:
    text = HELM_DOC.read_text()
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()


def write_table() -> None:
    text = HELM_DOC.read_text()
    head, tail = text[: text.index(BEGIN) + len(BEGIN)], text[text.index(END) :]
    HELM_DOC.write_text(f"{head}\n{values_table()}\n{tail}")


if __name__ == "__main__":
    write_table()
