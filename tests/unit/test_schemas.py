"""The generated JSON Schemas: committed copies are current, and they agree with the models."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from support.upstream_examples import UPSTREAM_EXAMPLES, is_canary, upstream_documents

from gitflink.core import schemas
from gitflink.model.resources import MODEL_BY_KIND

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
KIND_NAMES = tuple(MODEL_BY_KIND)


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / f"{kind.lower()}.json").read_text()))


def model_accepts(doc: dict[str, Any]) -> bool:
    try:
        MODEL_BY_KIND[doc["kind"]].model_validate(doc)
    except ValidationError:
        return False
    return True


def test_committed_schemas_equal_the_generated_ones() -> None:
    committed = {
        p.relative_to(SCHEMAS).as_posix(): p.read_text(encoding="utf-8")
        for p in SCHEMAS.rglob("*")
        if p.is_file()
    }
    assert schemas.stale_files(schemas.render_all(), committed) == []


def test_rendering_twice_gives_identical_text() -> None:
    assert schemas.render_all() == schemas.render_all()


@pytest.mark.parametrize("name", ["flinkdeployment", "flinksessionjob", "flinkstatesnapshot"])
def test_json_schemas_are_valid_draft_2020_12_with_titles(name: str) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    spec_def = schema["$defs"][schema["properties"]["spec"]["$ref"].split("/")[-1]]
    assert spec_def["additionalProperties"] is False
    for prop in spec_def["properties"].values():
        assert prop["title"] and prop["description"]


def test_titles_are_humanised_from_upstream_field_names() -> None:
    schema = schemas.json_schema(MODEL_BY_KIND["FlinkDeployment"])
    job = schema["$defs"]["JobSpec"]["properties"]
    assert job["jarURI"]["title"] == "Jar URI"
    assert job["savepointRedeployNonce"]["title"] == "Savepoint redeploy nonce"


def test_free_form_fields_stay_free_form() -> None:
    schema = schemas.json_schema(MODEL_BY_KIND["FlinkDeployment"])
    spec = schema["$defs"]["FlinkDeploymentSpec"]["properties"]
    assert spec["flinkConfiguration"]["additionalProperties"] is True
    pod_template = next(o for o in spec["podTemplate"]["anyOf"] if o.get("type") == "object")
    assert pod_template["additionalProperties"] is True


def test_every_upstream_example_validates_against_its_json_schema() -> None:
    checked = 0
    for path, doc in upstream_documents():
        if is_canary(doc):
            continue
        errors = [f"{e.json_path}: {e.message}" for e in validator(doc["kind"]).iter_errors(doc)]
        assert errors == [], f"{path}: {errors}"
        checked += 1
    assert checked >= 20, f"only {checked} upstream documents found under {UPSTREAM_EXAMPLES}"


def test_json_schema_and_model_agree_on_every_upstream_document() -> None:
    for path, doc in upstream_documents():
        schema_ok = validator(doc["kind"]).is_valid(doc)
        assert schema_ok == model_accepts(doc), path


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders", "namespace": "streaming"},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "flinkConfiguration": {"state": {"checkpoints.dir": "file:///tmp/c"}},
            "jobManager": {"resource": {"cpu": 0.5, "memory": "1024m"}},
            "taskManager": {"resource": {"cpu": 0.5, "memory": "1024m"}},
            "job": {"jarURI": "local:///opt/flink/job.jar", "parallelism": 2},
        },
    }


def _snapshot(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "snap"},
        "spec": {"jobReference": {"kind": "FlinkDeployment", "name": "orders"}, **spec},
    }


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = _deployment()
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    node[leaf] = value
    return doc


def _without(path: str) -> dict[str, Any]:
    doc = _deployment()
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    del node[leaf]
    return doc


INVALID = {
    "misspelt job field": _with("spec.job.paralelism", 2),
    "unknown spec field": _with("spec.imagePolicy", "Always"),
    "misspelt upgrade mode": _with("spec.job.upgradeMode", "savepiont"),
    "negative parallelism": _with("spec.job.parallelism", -1),
    "unsupported flink version": _with("spec.flinkVersion", "v1_10"),
    "string replicas": _with("spec.jobManager.replicas", "two"),
    "zero jobmanager replicas": _with("spec.jobManager.replicas", 0),
    "unknown resource field": _with("spec.taskManager.resource.gpu", 1),
    "wrong api version": _with("apiVersion", "flink.apache.org/v1"),
    "missing name": _with("metadata", {"namespace": "streaming"}),
    "missing spec": _without("spec"),
    "missing kind": _without("kind"),
    "snapshot with savepoint and checkpoint": _snapshot(savepoint={}, checkpoint={}),
    "snapshot with neither": _snapshot(),
    "snapshot of an unknown kind": {
        **_snapshot(checkpoint={}),
        "spec": {"jobReference": {"kind": "Deployment", "name": "x"}, "checkpoint": {}},
    },
}


def test_the_valid_base_documents_pass() -> None:
    assert validator("FlinkDeployment").is_valid(_deployment())
    assert validator("FlinkStateSnapshot").is_valid(_snapshot(checkpoint={}))
    assert validator("FlinkStateSnapshot").is_valid(_snapshot(savepoint={"path": "s3://b/sp"}))


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_manifest_is_rejected_by_json_schema_and_model(case: str) -> None:
    doc = copy.deepcopy(INVALID[case])
    kind = INVALID[case].get("kind", "FlinkDeployment")
    assert not validator(kind).is_valid(doc)
    if "kind" in doc:  # without `kind` the model is chosen by the caller, which is the point
        assert not model_accepts(doc)
