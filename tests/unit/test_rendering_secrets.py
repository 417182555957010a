"""A configuration with secrets renders its configuration file into a Secret, mounted with the
ConfigMap as one projected volume; nothing of the secret is in any other object (what the API
server's audit log and `kubectl get cm -o yaml` would show). Native mode keeps the ConfigMap."""

from __future__ import annotations

import base64
import json
from typing import Any

import kubernetes_validate

from gitflink.core.rendering.manifests import RenderContext, render
from gitflink.model.flink import JobStart
from gitflink.model.resources import DeploymentMode
from tests.unit.test_rendering import KUBERNETES, by_kind, deployment, in_mode, main_container

CANARY = "canary-render-51c0"


def session(**conf: Any) -> Any:
    return deployment(
        jobManager={"resource": {"memory": "1g"}},
        taskManager={"resource": {"memory": "1g"}},
        flinkConfiguration={"taskmanager.numberOfTaskSlots": 2, **conf},
    )


def test_the_configuration_file_of_a_cluster_with_secrets_is_in_a_secret_only() -> None:
    objects = render(session(**{"s3.secret-key": CANARY}), RenderContext())
    secret = by_kind(objects, "Secret", "flink-config-orders-secrets")
    config = base64.b64decode(secret["data"]["config.yaml"]).decode()
    assert f's3.secret-key: "{CANARY}"' in config and "taskmanager.numberOfTaskSlots: 2" in config
    assert "config.yaml" not in by_kind(objects, "ConfigMap", "flink-config-orders")["data"]
    others = [o for o in objects if o["kind"] != "Secret"]
    assert CANARY not in json.dumps(others)
    for workload in (o for o in objects if o["kind"] == "Deployment"):
        (volume,) = [
            v
            for v in workload["spec"]["template"]["spec"]["volumes"]
            if v["name"] == "flink-config-volume"
        ]
        assert volume["projected"]["sources"] == [
            {"configMap": {"name": "flink-config-orders"}},
            {"secret": {"name": "flink-config-orders-secrets"}},
        ]
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_a_credential_inside_a_value_counts_too_and_none_renders_no_secret() -> None:
    url = f"s3://reader:{CANARY}@bucket/checkpoints"
    objects = render(session(**{"state.checkpoints.dir": url}), RenderContext())
    assert CANARY not in json.dumps([o for o in objects if o["kind"] != "Secret"])
    plain = render(session(), RenderContext())
    assert not [o for o in plain if o["kind"] == "Secret"]
    assert "config.yaml" in by_kind(plain, "ConfigMap", "flink-config-orders")["data"]


def test_native_mode_keeps_the_file_in_the_configmap_flink_mounts_by_name() -> None:
    native = in_mode(session(**{"s3.secret-key": CANARY}), DeploymentMode.NATIVE)
    objects = render(native, RenderContext())
    assert not [o for o in objects if o["kind"] == "Secret"]
    assert CANARY in by_kind(objects, "ConfigMap", "flink-config-orders")["data"]["config.yaml"]


def test_a_secret_job_argument_reaches_the_jobmanager_through_the_secret() -> None:
    app = deployment(
        jobManager={"resource": {"memory": "1g"}},
        taskManager={"resource": {"memory": "1g"}},
        job={
            "jarURI": "local:///opt/flink/job.jar",
            "parallelism": 1,
            "args": ["--rate", "5", "--db-password", CANARY, f"--api-token={CANARY}"],
        },
    )
    objects = render(app, RenderContext(start=JobStart(job_id="0" * 32)))
    assert CANARY not in json.dumps([o for o in objects if o["kind"] != "Secret"])
    container = main_container(by_kind(objects, "Deployment", "orders"))
    assert container["args"][-5:] == [
        "--rate",
        "5",
        "--db-password",
        f"$(GITFLINK_SECRET_ARG_{len(container['args']) - 2})",
        f"$(GITFLINK_SECRET_ARG_{len(container['args']) - 1})",
    ]
    data = by_kind(objects, "Secret", "flink-config-orders-secrets")["data"]
    values = {base64.b64decode(v).decode() for v in data.values()}
    assert values == {CANARY, f"--api-token={CANARY}"}
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"]
        for e in container["env"]
        if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
    }
    assert sorted(refs.values()) == sorted(data)
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)
