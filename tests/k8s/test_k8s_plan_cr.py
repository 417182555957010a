"""`gitflink plan --status cr` on the test bed: planned against the custom resources' recorded
status (written here through the CR status store, as the agent writes it), the clusters asked
through the Kubernetes runtime, other gitflinks' custom resources never planned, and the
refusals (none at all, another instance only, a corrupt status)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from support.custom_resources import path_of, raw
from support.gitrepos import run_git

from gitflink import wiring
from gitflink.adapters.kubernetes_runtime.requests import KubeRequests
from gitflink.adapters.status_cr import CrStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.cli import main
from gitflink.model.ids import ResourceId
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import (
    JobStatus,
    LifecycleState,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
)
from gitflink.settings import Settings

pytestmark = pytest.mark.k8s
SECRET, NEW_SECRET = "hunter2-canary", "hunter3-canary"


def manifest(namespace: str, name: str, secret: str, args: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "flinkConfiguration": {
                "s3.secret-key": secret,
                "jobmanager.memory.process.size": "1g",
                "taskmanager.memory.process.size": "1g",
                "state.checkpoints.dir": "file:///flink/checkpoints",
                "state.savepoints.dir": "file:///flink/savepoints",
            },
            "job": {
                "jarURI": "local:///opt/job.jar",
                "args": args,
                "parallelism": 1,
                "upgradeMode": "savepoint",
            },
        },
    }


def applied(doc: dict[str, Any]) -> tuple[ResourceId, ResourceStatus]:
    """`doc` recorded as applied and running, with a savepoint, as the agent records it."""
    resource = FlinkDeployment.model_validate(doc)
    spec = resource.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    return resource.id, ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        reconciliation=ReconciliationStatus(last_applied_spec=spec),
        job_status=JobStatus(
            job_id="a" * 32, state="RUNNING", last_savepoint=Snapshot(path="file:///sp/sp-1")
        ),
        applied_revision="f" * 40,
    )


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Path:
    """Git asks for `orders` with new args and a new secret, and for a new `views`."""
    root = tmp_path / "repo"
    root.mkdir()
    run_git(root, "init", "-q")
    for name, secret, args in (("orders", NEW_SECRET, ["--v2"]), ("views", SECRET, [])):
        (root / f"{name}.yaml").write_text(json.dumps(manifest(namespace, name, secret, args)))
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "orders v2, views")
    return root


@pytest.fixture
def cli(
    flink_crds: list[str],
    control_plane: ControlPlane,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`gitflink` run as a user runs it: a kubeconfig, and this test's namespace only (the API
    server is shared with other tests and their gitflinks)."""
    kubeconfig = control_plane.kubeconfig(control_plane.admin, control_plane.root / "admin.json")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("GITFLINK_NAMESPACES", namespace)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def stores(config: k8s.Configuration, *instances: str) -> Iterator[list[CrStatusStore]]:
    with k8s.ApiClient(config) as api:
        yield [CrStatusStore(KubeRequests(api, SystemClock()), i) for i in instances]


def instance_of(repo: Path) -> str:
    """The instance an agent following `repo` (its HEAD, every path) labels its resources."""
    return wiring.instance_of(dataclasses.replace(Settings.from_env(), repo=str(repo)))


def plan(repo: Path, *flags: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["plan", "--repo", str(repo), "--status", "cr", *flags])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("cli")
def test_plan_status_cr_plans_against_the_custom_resources_and_asks_kubernetes(
    repo: Path, kube_config: k8s.Configuration, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for ours, theirs in stores(kube_config, instance_of(repo), "another-agent"):
        ours.save(*applied(manifest(namespace, "orders", SECRET, ["--v1"])), "orders v1")
        theirs.save(*applied(manifest(namespace, "payments", SECRET, [])), "another source's")
    # As recorded: orders runs --v1, views is new; payments is another gitflink's, not ours.
    code, out, err = plan(repo, "-o", "json", capsys=capsys)
    assert code == 0, out + err
    planned = json.loads(out)
    assert planned["baseline"] == "deployed"
    assert "as last recorded in status" in " ".join(planned["notes"])
    actions = {c["name"]: c["action"] for c in planned["changes"]}
    assert actions == {"orders": "upgrade", "views": "deploy"}
    (orders,) = [c for c in planned["changes"] if c["name"] == "orders"]
    assert [(f["path"], f["from"], f["to"]) for f in orders["fields"]] == [
        ("spec.flinkConfiguration[s3.secret-key]", "******", "******"),
        ("spec.job.args", ["--v1"], ["--v2"]),
    ]
    assert [step["type"] for step in orders["steps"]][:1] == ["StopJob"]
    # Asked of Kubernetes: orders' cluster is not there, so nothing is stopped and its job
    # starts from the savepoint recorded in its custom resource.
    code, out, err = plan(repo, "--runtime", "kubernetes", "-o", "json", capsys=capsys)
    assert code == 0, out + err
    planned = json.loads(out)
    assert "the clusters in Kubernetes" in " ".join(planned["notes"])
    (orders,) = [c for c in planned["changes"] if c["name"] == "orders"]
    assert [step["type"] for step in orders["steps"]] == ["StartCluster", "SubmitJob"]
    assert orders["steps"][1]["restore"]["path"] == "file:///sp/sp-1"
    for output in ("text", "markdown", "yaml"):
        code, out, err = plan(repo, "--runtime", "kubernetes", "-o", output, capsys=capsys)
        assert code == 0 and "orders" in out
        assert SECRET not in out + err and NEW_SECRET not in out + err


@pytest.mark.usefixtures("cli")
def test_plan_status_cr_refuses_to_plan_everything_as_new(
    repo: Path,
    kube_config: k8s.Configuration,
    kube_api: k8s.ApiClient,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = plan(repo, capsys=capsys)
    assert (code, out) == (1, "")
    assert f"no gitflink custom resources in namespaces {namespace}" in err
    # Only another gitflink's: named, never planned as ours (ours new, its deleted).
    for (theirs,) in stores(kube_config, "another-agent"):
        theirs.save(*applied(manifest(namespace, "orders", SECRET, ["--v1"])), "theirs")
    code, out, err = plan(repo, capsys=capsys)
    assert (code, out) == (1, "")
    assert "gitflink instances there: another-agent (1 resource(s), e.g." in err
    assert "--instance NAME" in err
    code, out, err = plan(repo, "--instance", "another-agent", "-o", "json", capsys=capsys)
    assert code == 0, out + err
    assert {c["name"]: c["action"] for c in json.loads(out)["changes"]} == {
        "orders": "upgrade",
        "views": "deploy",
    }
    # A status that does not parse is refused, naming the custom resource.
    broken = {"status": {"gitflink": {"lifecycleState": "NOT-A-STATE"}}}
    raw(kube_api, path_of(namespace, name="orders") + "/status", method="PATCH", body=broken)
    code, out, err = plan(repo, "--instance", "another-agent", capsys=capsys)
    assert (code, out) == (1, "")
    assert f"FlinkDeployment/{namespace}/orders" in err and "lifecycleState" in err
