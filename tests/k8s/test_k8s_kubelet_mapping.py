"""How the process kubelet reads a Flink container: image tag -> Flink version, the image
entrypoint's arguments (also the native kubernetes-*.sh forms) -> mode, paths -> the pod dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_testbed.flink_container import entrypoint_mode, flink_version, split_dynamic
from k8s_testbed.pod_fs import PodConfigError, expand, rewrite_paths

from gitflink.model.resources import FlinkVersion


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("flink:1.20", FlinkVersion.V1_20),
        ("apache/flink:2.3.0-java17", FlinkVersion.V2_3),
        ("registry.local:5000/flink:1.19.1-scala_2.12", FlinkVersion.V1_19),
    ],
)
def test_the_image_tag_names_the_flink_version(image: str, version: FlinkVersion) -> None:
    assert flink_version(image) == version


@pytest.mark.parametrize("image", ["flink", "flink:latest", "nginx:1.27", "flink:0.9"])
def test_an_image_without_a_known_flink_version_is_refused_with_its_name(image: str) -> None:
    with pytest.raises(PodConfigError, match="image"):
        flink_version(image)


@pytest.mark.parametrize(
    ("argv", "mode", "rest"),
    [
        (["jobmanager"], "jobmanager", []),
        (
            ["/docker-entrypoint.sh", "taskmanager", "-Dtaskmanager.numberOfTaskSlots=2"],
            "taskmanager",
            ["-Dtaskmanager.numberOfTaskSlots=2"],
        ),
        (
            ["standalone-job", "--job-classname", "a.B"],
            "standalone-job",
            ["--job-classname", "a.B"],
        ),
        (
            ["/docker-entrypoint.sh", "bash", "-c", "kubernetes-jobmanager.sh kubernetes-session"],
            "kubernetes-session",
            [],
        ),
        (
            ["bash", "-c", "kubernetes-jobmanager.sh kubernetes-application"],
            "kubernetes-application",
            [],
        ),
        (
            [
                "bash",
                "-c",
                "kubernetes-taskmanager.sh -Dtaskmanager.resource-id=tm-1"
                " -D jobmanager.memory.off-heap.size=134217728b",
            ],
            "kubernetes-taskmanager",
            ["-Dtaskmanager.resource-id=tm-1", "-D", "jobmanager.memory.off-heap.size=134217728b"],
        ),
    ],
)
def test_entrypoint_arguments_pick_the_mode(argv: list[str], mode: str, rest: list[str]) -> None:
    assert entrypoint_mode(argv) == (mode, rest)


def test_arguments_that_are_no_flink_mode_are_refused() -> None:
    with pytest.raises(PodConfigError, match="not a Flink image mode"):
        entrypoint_mode(["sleep", "3600"])


def test_dynamic_properties_are_split_from_the_other_arguments() -> None:
    dynamic, rest = split_dynamic(["-D", "a=1", "-Db=2=3", "--job-classname", "x.Y"])
    assert dynamic == {"a": "1", "b": "2=3"}
    assert rest == ["--job-classname", "x.Y"]


def test_container_paths_map_into_the_rootfs_once() -> None:
    root = Path("/pods/p1/rootfs")
    text = "local:///opt/flink/usrlib/job.jar /opt/flinkish /data/x file:///data"
    mapped = rewrite_paths(text, ["/opt/flink", "/data"], root)
    assert mapped == (
        "local:///pods/p1/rootfs/opt/flink/usrlib/job.jar /opt/flinkish "
        "/pods/p1/rootfs/data/x file:///pods/p1/rootfs/data"
    )
    assert rewrite_paths(mapped, ["/opt/flink", "/data"], root) == mapped


def test_env_references_expand_like_kubernetes() -> None:
    assert expand("$(A)-$(MISSING)-$$(A)", {"A": "x"}) == "x-$(MISSING)-$(A)"
