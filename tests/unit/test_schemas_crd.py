"""The generated CRDs: structural, complete against upstream's, and `gitflink schema --check`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from support.upstream_examples import (
    is_canary,
    load_yaml_documents,
    upstream_crd,
    upstream_documents,
)

from gitflink.cli import main
from gitflink.core import schemas

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "schemas" / "crds"
PLURALS = {info.kind: info.plural for info in schemas.KINDS}
EXTENSIONS = ("x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string")


def our_crd(plural: str) -> dict[str, Any]:
    (crd,) = load_yaml_documents(CRD_DIR / f"{plural}.flink.apache.org.yaml")
    assert isinstance(crd, dict)
    return crd


def open_api(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with a dotted path: properties, items and map values."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from nodes(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("plural", sorted(PLURALS.values()))
def test_crd_schema_is_structural(plural: str) -> None:
    for path, node in nodes(open_api(our_crd(plural))):
        assert not {"$ref", "$defs", "anyOf", "const", "title", "default"} & node.keys(), path
        assert node.get("type") or any(node.get(e) for e in EXTENSIONS), f"{path} has no type"
        assert node.get("additionalProperties") is not False, path
        assert not ("properties" in node and "additionalProperties" in node), path


@pytest.mark.parametrize("plural", sorted(PLURALS.values()))
def test_crd_serves_and_stores_v1beta1_with_a_status_subresource(plural: str) -> None:
    crd = our_crd(plural)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == f"{plural}.flink.apache.org"
    assert crd["spec"]["group"] == "flink.apache.org"
    assert crd["spec"]["scope"] == "Namespaced"
    (version,) = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1beta1", True, True)
    assert version["subresources"] == {"status": {}}
    assert crd["spec"]["names"]["shortNames"] == upstream_crd(plural)["spec"]["names"]["shortNames"]


@pytest.mark.parametrize("kind", sorted(PLURALS))
def test_printer_columns_match_upstream(kind: str) -> None:
    (ours,) = our_crd(PLURALS[kind])["spec"]["versions"]
    (theirs,) = upstream_crd(PLURALS[kind])["spec"]["versions"]

    def columns(version: dict[str, Any]) -> list[tuple[str, str]]:
        return [(c["name"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]

    assert columns(ours) == columns(theirs)


def _free_form(node: dict[str, Any]) -> bool:
    return bool(node.get("x-kubernetes-preserve-unknown-fields")) and "properties" not in node


@pytest.mark.parametrize("kind", sorted(PLURALS))
def test_every_upstream_spec_property_exists_in_ours_with_the_same_type(kind: str) -> None:
    ours = dict(nodes(open_api(our_crd(PLURALS[kind]))["properties"]["spec"]))
    theirs = dict(nodes(open_api(upstream_crd(PLURALS[kind]))["properties"]["spec"]))
    missing, mistyped = [], []
    for path, node in theirs.items():
        prefixes = [path[:i] for i in range(len(path)) if path[i] in ".[{"]
        if any(p in ours and _free_form(ours[p]) for p in prefixes):
            continue  # inside a map we keep free-form, as upstream's podTemplate/resources
        if path not in ours:
            missing.append(path)
        elif node.get("type") and ours[path].get("type") not in (None, node["type"]):
            mistyped.append(f"{path}: ours {ours[path]['type']}, upstream {node['type']}")
    assert missing == []
    assert mistyped == []


def _as_json_schema(node: Any) -> Any:
    """OpenAPI v3.0 `nullable` is not JSON Schema: spell it as a type union for jsonschema."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def test_upstream_examples_are_accepted_by_our_crd_schemas() -> None:
    checked = 0
    for path, doc in upstream_documents():
        if is_canary(doc):
            continue
        schema = _as_json_schema(open_api(our_crd(PLURALS[doc["kind"]])))
        errors = [f"{e.json_path}: {e.message}" for e in Draft4Validator(schema).iter_errors(doc)]
        assert errors == [], f"{path}: {errors}"
        checked += 1
    assert checked >= 20


def test_crd_rejects_negative_parallelism_and_unknown_enum_values() -> None:
    """Zero passes the schema: next to taskManager.replicas upstream reads it as unset."""
    schema = Draft4Validator(_as_json_schema(open_api(our_crd("flinkdeployments"))))
    job = {"jarURI": "local:///j.jar", "parallelism": 1, "upgradeMode": "savepoint"}
    doc = {"kind": "FlinkDeployment", "metadata": {}, "spec": {"job": job}}
    assert schema.is_valid(doc)
    assert schema.is_valid({**doc, "spec": {"job": {**job, "parallelism": 0}}})
    assert not schema.is_valid({**doc, "spec": {"job": {**job, "parallelism": -1}}})
    assert not schema.is_valid({**doc, "spec": {"job": {**job, "upgradeMode": "savepiont"}}})
    assert not schema.is_valid({**doc, "spec": {"flinkVersion": "v1_10"}})


def test_status_is_the_operators_shape_with_gitflinks_record_kept_free_form() -> None:
    """CR status mode: kubectl and tools read the operator's fields; gitflink reads its own."""
    snapshot = open_api(our_crd("flinkstatesnapshots"))["properties"]["status"]["properties"]
    assert {"state", "path", "resultTimestamp", "failures", "error"} <= snapshot.keys()
    job = open_api(our_crd("flinkdeployments"))["properties"]["status"]["properties"]
    assert {"lifecycleState", "jobStatus", "reconciliationStatus", "error", "conditions"} <= (
        job.keys()
    )
    assert job["reconciliationStatus"]["properties"]["lastStableSpec"]["type"] == "string"
    saved = job["jobStatus"]["properties"]["savepointInfo"]["properties"]["lastSavepoint"]
    assert {"location", "timeStamp", "triggerType"} <= saved["properties"].keys()
    for status in (job, snapshot):
        assert _free_form(status["gitflink"])


def test_kubectl_columns_are_the_operators() -> None:
    for plural in ("flinkdeployments", "flinksessionjobs"):
        (version,) = our_crd(plural)["spec"]["versions"]
        columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
        assert columns == {
            "Job Status": ".status.jobStatus.state",
            "Lifecycle State": ".status.lifecycleState",
        }


def test_schema_command_writes_then_check_passes(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "schemas"
    assert main(["schema", "--out", str(out)]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == sorted(
        schemas.render_all()
    )
    assert main(["schema", "--out", str(out), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_schema_check_names_changed_missing_and_unexpected_files(
    tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "schemas"
    main(["schema", "--out", str(out)])
    (out / "flinkdeployment.json").write_text("{}\n")
    (out / "crds" / "flinksessionjobs.flink.apache.org.yaml").unlink()
    (out / "crds" / "flinkbluegreendeployments.flink.apache.org.yaml").write_text("x: 1\n")
    (out / "README.md").write_text("not generated, not checked\n")
    capsys.readouterr()

    assert main(["schema", "--out", str(out), "--check"]) == 1
    report = capsys.readouterr().out
    assert f"{out}/flinkdeployment.json: out of date" in report
    assert f"{out}/crds/flinksessionjobs.flink.apache.org.yaml: missing" in report
    assert f"{out}/crds/flinkbluegreendeployments.flink.apache.org.yaml: not generated" in report
    assert "README.md" not in report
    assert (out / "flinkdeployment.json").read_text() == "{}\n"  # --check writes nothing

    assert main(["schema", "--out", str(out)]) == 0
    assert main(["schema", "--out", str(out), "--check"]) == 0
    assert not (out / "crds" / "flinkbluegreendeployments.flink.apache.org.yaml").exists()
    assert (out / "README.md").exists()


def test_schema_check_fails_when_the_directory_does_not_exist(tmp_path: Path) -> None:
    assert main(["schema", "--out", str(tmp_path / "nowhere"), "--check"]) == 1
