"""Rendering: every object of every upstream example is valid Kubernetes (kubernetes-validate,
strict), and the layout rules hold: sizes, arguments, configuration, pod template layers."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from support.upstream_examples import is_canary, upstream_documents

from gitflink.core.rendering import naming
from gitflink.core.rendering.manifests import RenderContext, first_start, render
from gitflink.core.rendering.templating import flink_memory_mib, merge
from gitflink.model.flink import JobStart
from gitflink.model.ids import job_id_for
from gitflink.model.resources import DeploymentMode, FlinkDeployment

KUBERNETES = "1.37.0"  # the test bed's API server


def upstream_deployments() -> list[tuple[str, FlinkDeployment]]:
    return [
        (path.name, FlinkDeployment.model_validate(doc))
        for path, doc in upstream_documents()
        if doc["kind"] == "FlinkDeployment" and not is_canary(doc)
    ]


def in_mode(deployment: FlinkDeployment, mode: DeploymentMode) -> FlinkDeployment:
    return deployment.model_copy(update={"spec": deployment.spec.model_copy(update={"mode": mode})})


def deployment(**spec: Any) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders", "namespace": "team"},
            "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", **spec},
        }
    )


def by_kind(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def main_container(obj: dict[str, Any]) -> dict[str, Any]:
    containers = obj["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == naming.MAIN_CONTAINER)


JOB = {"jarURI": "local:///opt/flink/job.jar", "parallelism": 5, "entryClass": "a.Main"}


@pytest.mark.parametrize("mode", list(DeploymentMode))
def test_every_upstream_example_renders_objects_kubernetes_accepts(mode: DeploymentMode) -> None:
    examples = upstream_deployments()
    assert len(examples) >= 15
    for name, example in examples:
        resource = in_mode(example, mode)
        objects = render(resource, RenderContext(revision="f" * 40, start=first_start(resource)))
        assert objects[0]["kind"] == "Deployment", name
        # As applied: owned by the JobManager Deployment.
        owner = naming.Owner("apps/v1", "Deployment", resource.metadata.name, "uid-1")
        for obj in naming.owned(objects, owner):
            kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_strict_validation_catches_an_unknown_field() -> None:
    """The guard above can fail: strict mode refuses what Kubernetes would drop."""
    (obj, *_) = render(deployment(job=JOB), RenderContext())
    broken = {**obj, "spec": {**obj["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_taskmanagers_cover_the_parallelism_unless_replicas_are_given() -> None:
    config = {"taskmanager.numberOfTaskSlots": 2}
    objects = render(deployment(job=JOB, flinkConfiguration=config), RenderContext())
    assert by_kind(objects, "Deployment", "orders-taskmanager")["spec"]["replicas"] == 3
    fixed = deployment(job=JOB, flinkConfiguration=config, taskManager={"replicas": 4})
    assert (
        by_kind(render(fixed, RenderContext()), "Deployment", "orders-taskmanager")["spec"][
            "replicas"
        ]
        == 4
    )


def test_an_application_starts_its_job_with_gitflinks_id_and_the_restore_path() -> None:
    start = JobStart(job_id="0" * 32, restore_path="s3://b/sp-1", allow_non_restored_state=True)
    objects = render(deployment(job={**JOB, "args": ["--rate", "5"]}), RenderContext(start=start))
    assert main_container(objects[0])["args"] == [
        "standalone-job", "--jars", "local:///opt/flink/job.jar", "--job-id", "0" * 32,
        "-Dparallelism.default=5", "--job-classname", "a.Main", "--fromSavepoint", "s3://b/sp-1",
        "--allowNonRestoredState", "--rate", "5",
    ]  # fmt: skip
    # A new start restarts the TaskManagers with the JobManager: none keeps the old one's slots.
    tm = by_kind(objects, "Deployment", "orders-taskmanager")["spec"]["template"]["metadata"]
    assert tm["annotations"]["gitflink.io/job-id"] == "0" * 32
    conf = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]["config.yaml"]
    assert "parallelism.default" not in conf  # a rescale never touches running TaskManagers
    first = first_start(deployment(job={**JOB, "initialSavepointPath": "file:///sp"}))
    assert first == JobStart(job_id_for(deployment().id, 1), "file:///sp")


def test_without_a_start_the_jobmanager_is_a_session_cluster() -> None:
    assert main_container(render(deployment(job=JOB), RenderContext())[0])["args"] == ["jobmanager"]
    assert main_container(render(deployment(), RenderContext())[0])["args"] == ["jobmanager"]


@pytest.mark.parametrize(
    ("version", "file"), [("v1_18", "flink-conf.yaml"), ("v1_19", "config.yaml")]
)
def test_the_configuration_file_follows_the_flink_version(version: str, file: str) -> None:
    objects = render(deployment(flinkVersion=version), RenderContext())
    data = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]
    assert set(data) == {file, "log4j-console.properties"}
    assert "jobmanager.rpc.address" in data[file]


def test_log_configuration_overrides_the_console_default() -> None:
    custom = {"log4j-console.properties": "rootLogger.level = DEBUG\n"}
    objects = render(deployment(logConfiguration=custom), RenderContext())
    data = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]
    assert data["log4j-console.properties"] == "rootLogger.level = DEBUG\n"


def test_pod_templates_merge_in_layers_by_name() -> None:
    base = {
        "spec": {
            "containers": [
                {
                    "name": "flink-main-container",
                    "volumeMounts": [{"name": "logs", "mountPath": "/l"}],
                },
                {"name": "sidecar", "image": "busybox"},
            ],
            "volumes": [{"name": "logs", "emptyDir": {}}],
        }
    }
    role = {"spec": {"containers": [{"name": "flink-main-container", "image": "ignored:1"}],
                     "nodeSelector": {"pool": "jm"}}}  # fmt: skip
    objects = render(
        deployment(podTemplate=base, jobManager={"podTemplate": role}), RenderContext()
    )
    pod = objects[0]["spec"]["template"]["spec"]
    main = main_container(objects[0])
    assert [c["name"] for c in pod["containers"]] == ["flink-main-container", "sidecar"]
    assert main["image"] == "flink:1.20"  # gitflink's layer is the last
    assert [m["name"] for m in main["volumeMounts"]] == ["logs", naming.CONFIG_VOLUME]
    assert [v["name"] for v in pod["volumes"]] == ["logs", naming.CONFIG_VOLUME]
    assert pod["nodeSelector"] == {"pool": "jm"}
    taskmanager = by_kind(objects, "Deployment", "orders-taskmanager")["spec"]["template"]["spec"]
    assert "nodeSelector" not in taskmanager


def test_merge_replaces_unnamed_lists_and_keeps_its_inputs() -> None:
    base = {"tolerations": [{"key": "a"}], "containers": [{"name": "x", "args": ["1"]}]}
    merged = merge(base, {"tolerations": [{"key": "b"}], "containers": [{"name": "x"}]})
    assert merged == {"tolerations": [{"key": "b"}], "containers": [{"name": "x", "args": ["1"]}]}
    assert base["tolerations"] == [{"key": "a"}]


def test_resource_sizes_become_requests_and_limits_and_flink_memory() -> None:
    objects = render(
        deployment(jobManager={"resource": {"cpu": 0.5, "memory": "2048m"}},
                   taskManager={"resources": {"requests": {"memory": "1Gi"}}}),
        RenderContext(),
    )  # fmt: skip
    amounts = {"cpu": "500m", "memory": "2048Mi"}
    assert main_container(objects[0])["resources"] == {"requests": amounts, "limits": amounts}
    tm = by_kind(objects, "Deployment", "orders-taskmanager")
    assert main_container(tm)["resources"] == {"requests": {"memory": "1Gi"}}
    conf = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]["config.yaml"]
    assert 'jobmanager.memory.process.size: "2048m"' in conf
    assert (flink_memory_mib("1g"), flink_memory_mib("1536 mb"), flink_memory_mib("1")) == (
        1024, 1536, 1,
    )  # fmt: skip


def test_kubernetes_ha_gets_a_fresh_job_result_store_per_cluster_start() -> None:
    ha = {"high-availability.type": "kubernetes", "high-availability.storageDir": "s3://b/ha/"}
    objects = render(deployment(job=JOB, flinkConfiguration=ha), RenderContext(cluster_start="7"))
    conf = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]["config.yaml"]
    assert "job-result-store.delete-on-commit: false" in conf
    assert 'job-result-store.storage-path: "s3://b/ha/job-result-store/orders/7"' in conf
    assert 'kubernetes.cluster-id: "orders"' in conf
    started = render(
        deployment(job=JOB, flinkConfiguration=ha), RenderContext(start=JobStart("ab"))
    )
    started_conf = by_kind(started, "ConfigMap", "flink-config-orders")["data"]["config.yaml"]
    assert 'job-result-store.storage-path: "s3://b/ha/job-result-store/orders/ab"' in started_conf
    role = by_kind(objects, "Role", "orders-flink")
    assert {"configmaps"} <= {r for rule in role["rules"] for r in rule["resources"]}
    assert objects[0]["spec"]["template"]["spec"]["serviceAccountName"] == "orders-flink"


def test_native_mode_lets_the_jobmanager_create_taskmanager_pods() -> None:
    objects = render(deployment(job=JOB, mode="native", serviceAccount="flink"), RenderContext(
        start=JobStart("1" * 32)
    ))  # fmt: skip
    kinds = [o["kind"] for o in objects]
    assert "ServiceAccount" not in kinds  # the spec's own account is shared: never rendered
    assert kinds.count("Deployment") == 1
    assert main_container(objects[0])["args"] == [
        "bash", "-c", "kubernetes-jobmanager.sh kubernetes-application",
    ]  # fmt: skip
    conf = by_kind(objects, "ConfigMap", "flink-config-orders")["data"]
    assert '"$internal.pipeline.job-id": "' not in conf["config.yaml"]
    assert '$internal.pipeline.job-id: "' + "1" * 32 in conf["config.yaml"]
    assert 'execution.target: "kubernetes-application"' in conf["config.yaml"]
    assert "taskmanager-pod-template.yaml" in conf
    pods_rule = next(r for r in by_kind(objects, "Role", "orders-flink")["rules"]
                     if r["resources"] == ["pods"])  # fmt: skip
    assert "create" in pods_rule["verbs"]
    binding = by_kind(objects, "RoleBinding", "orders-flink")
    assert binding["subjects"][0]["name"] == "flink"


def test_a_native_cluster_without_a_start_is_a_session_cluster() -> None:
    (jobmanager, config_map, *_) = render(deployment(job=JOB, mode="native"), RenderContext())
    assert main_container(jobmanager)["args"][-1] == "kubernetes-jobmanager.sh kubernetes-session"
    assert 'execution.target: "kubernetes-session"' in config_map["data"]["config.yaml"]


def test_ingress_fills_the_template() -> None:
    spec = {"template": "/{{namespace}}/{{name}}(/|$)(.*)", "className": "nginx"}
    (path_only,) = [o for o in render(deployment(ingress=spec), RenderContext())
                    if o["kind"] == "Ingress"]  # fmt: skip
    rule = path_only["spec"]["rules"][0]
    assert "host" not in rule and rule["http"]["paths"][0]["path"] == "/team/orders(/|$)(.*)"
    assert path_only["spec"]["ingressClassName"] == "nginx"
    hosted = render(deployment(ingress={"template": "{{name}}.{{namespace}}.flink.k8s.io"}),
                    RenderContext())  # fmt: skip
    assert by_kind(hosted, "Ingress", "orders")["spec"]["rules"][0]["host"] == (
        "orders.team.flink.k8s.io"
    )


def test_objects_carry_provenance_and_the_owner_on_all_but_itself() -> None:
    objects = render(deployment(job=JOB), RenderContext(revision="c0ffee" * 7))
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels[naming.REVISION_LABEL] == ("c0ffee" * 7)[:63]
        assert labels[naming.DIGEST_LABEL] == naming.spec_digest(deployment(job=JOB))
    pod_labels = objects[0]["spec"]["template"]["metadata"]["labels"]
    assert naming.REVISION_LABEL not in pod_labels  # a new commit never restarts pods by itself
    owner = naming.Owner("apps/v1", "Deployment", "orders", "uid-1")
    owned = naming.owned(objects, owner)
    assert "ownerReferences" not in owned[0]["metadata"]
    assert all(o["metadata"]["ownerReferences"][0]["uid"] == "uid-1" for o in owned[1:])


def test_a_configuration_change_rolls_the_pods_through_their_template() -> None:
    before = render(deployment(flinkConfiguration={"a": "1"}), RenderContext())[0]
    after = render(deployment(flinkConfiguration={"a": "2"}), RenderContext())[0]
    digest = naming.CONFIG_DIGEST
    assert (
        before["spec"]["template"]["metadata"]["annotations"][digest]
        != after["spec"]["template"]["metadata"]["annotations"][digest]
    )
