"""`gitflink render`: each FlinkDeployment's objects, offline, as YAML documents or a v1 List."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gitflink.cli import main

MANIFEST = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {{name: {name}, namespace: team}}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  flinkConfiguration: {{taskmanager.numberOfTaskSlots: "2"}}
  jobManager: {{resource: {{memory: 1g, cpu: 1}}}}
  taskManager: {{resource: {{memory: 1g, cpu: 1}}}}
  job: {{jarURI: "local:///opt/flink/job.jar", parallelism: 4, state: {state}}}
"""


def write(tmp_path: Path, name: str, state: str = "running") -> None:
    (tmp_path / f"{name}.yaml").write_text(MANIFEST.format(name=name, state=state))


def test_yaml_is_one_document_per_object_labelled_with_the_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "orders")
    assert main(["render", str(tmp_path), "--revision", "abc123"]) == 0
    docs = list(YAML(typ="safe").load_all(capsys.readouterr().out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Deployment", "orders"),
        ("ConfigMap", "flink-config-orders"),
        ("Service", "orders"),
        ("Service", "orders-rest"),
        ("Deployment", "orders-taskmanager"),
    ]
    assert {d["metadata"]["labels"]["gitflink.io/revision"] for d in docs} == {"abc123"}
    assert docs[-1]["spec"]["replicas"] == 2


def test_json_is_a_list_and_a_suspended_job_has_no_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "orders")
    write(tmp_path, "paused", state="suspended")
    assert main(["render", str(tmp_path), "-o", "json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["kind"] == "List"
    assert {i["metadata"]["labels"]["gitflink.io/resource"] for i in document["items"]} == {
        "orders"
    }
    assert "team/paused: suspended" in err


def test_an_invalid_manifest_fails_and_the_valid_ones_still_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "orders")
    (tmp_path / "bad.yaml").write_text(MANIFEST.format(name="bad", state="runing"))
    assert main(["render", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "bad.yaml" in err and "runing" in err
    names = {
        d["metadata"]["labels"]["gitflink.io/resource"] for d in YAML(typ="safe").load_all(out)
    }
    assert names == {"orders"}


def test_render_needs_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render"]) == 2
    assert "PATH" in capsys.readouterr().err
