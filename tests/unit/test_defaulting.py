"""The default Flink configuration goes under each FlinkDeployment's own; a key the manifest
sets, in either spelling, wins; session jobs are left as they are."""

from __future__ import annotations

from gitflink.core.defaulting import with_default_configuration
from gitflink.core.parsing import parse_files
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob

FILES = {
    "apps.yaml": b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: orders}
spec:
  flinkVersion: v1_20
  flinkConfiguration: {state: {backend.type: rocksdb}}
---
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: views}
spec:
  deploymentName: orders
  job: {jarURI: local:///x.jar}
""",
}


def test_defaults_fill_in_and_the_manifest_wins() -> None:
    desired = parse_files(FILES).desired
    defaults = {"state.backend.type": "hashmap", "taskmanager": {"numberOfTaskSlots": "4"}}
    deployment, job = (d.resource for d in with_default_configuration(desired, defaults))
    assert isinstance(deployment, FlinkDeployment) and isinstance(job, FlinkSessionJob)
    assert deployment.spec.flink_configuration == {
        "state.backend.type": "rocksdb",
        "taskmanager.numberOfTaskSlots": "4",
    }
    assert job == desired[1].resource


def test_no_defaults_change_nothing() -> None:
    desired = parse_files(FILES).desired
    assert with_default_configuration(desired, {}) == tuple(desired)
