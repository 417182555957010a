"""The Helm chart rendered offline by Helm's own Go SDK (helm-python-sdk): lint clean and every
object valid Kubernetes (kubernetes-validate, strict) for the default values and the others that
change what is rendered; least privilege in every rendering; the chart in step with the code
(config file format, environment, CRDs, the Roles Flink's pods get, the image, docs/helm.md).
On the test bed: tests/k8s/test_k8s_chart.py."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import dockerfile
import helm_python as helm
import kubernetes_validate
import pytest
from ruamel.yaml import YAML
from support.helm_chart import (
    CHART,
    REPO,
    documented_table,
    env_of,
    find,
    grants,
    lint_findings,
    render,
    values_table,
    with_repo,
)
from support.recording_env import Recording

from gitflink import __version__, settings_file
from gitflink.core.rendering import access
from gitflink.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = "1.37.0"  # the test bed's API server
CREDENTIALS = {
    "existingSecret": "git-credentials",
    "tokenKey": "",
    "usernameKey": "user",
    "sshKeyKey": "ssh-privatekey",
    "knownHostsKey": "known_hosts",
}
VALUES: dict[str, dict[str, Any]] = {
    "default": with_repo(),
    "cluster-wide": with_repo({"clusterWide": True}),
    "several namespaces": with_repo({"watchNamespaces": ["team-a", "team-b"]}),
    "monitored and exposed": with_repo({
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
        "ingress": {
            "enabled": True, "className": "nginx", "host": "gitflink.example.com",
            "tls": [{"hosts": ["gitflink.example.com"], "secretName": "gitflink-tls"}],
        },
    }),
    "cr status": with_repo({"status": {"mode": "cr"}, "watchNamespaces": ["team-a"]}),
    "two replicas with credentials": with_repo({
        "replicaCount": 2,
        "git": {"repo": "ssh://git@git.example.com/team/apps.git", "credentials": CREDENTIALS},
        "webhook": {"existingSecret": "gitflink-webhook"},
        "persistence": {"existingClaim": "gitflink-data"},
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": 2},
        "config": {"selfHeal": False},
    }),
}  # fmt: skip


@functools.cache
def rendered(case: str) -> list[dict[str, Any]]:
    """Rendered once per case (not to be changed by a test)."""
    return render(VALUES[case])


@pytest.mark.parametrize("case", VALUES)
def test_lint_is_clean_and_every_object_is_valid_kubernetes(case: str) -> None:
    assert lint_findings(VALUES[case]) == []
    for obj in rendered(case):
        if obj["kind"] == "ServiceMonitor":  # the Prometheus Operator's CRD: not built in
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


@pytest.mark.parametrize("case", VALUES)
def test_least_privilege_in_every_rendering(case: str) -> None:
    objects = rendered(case)
    rules = [r for kind in ("Role", "ClusterRole") for o in find(objects, kind) for r in o["rules"]]
    assert rules
    for group, resource, verb in grants(rules):
        assert "*" not in (group, resource, verb)
        assert resource not in ("nodes", "namespaces"), resource
        # Secrets are written (the secret part of Flink's configuration), never read.
        assert resource != "secrets" or verb in ("create", "patch"), verb
    cluster_roles = find(objects, "ClusterRole")
    assert bool(cluster_roles) == (case == "cluster-wide")


@pytest.mark.parametrize("case", VALUES)
def test_the_pod_is_locked_down_and_probed(case: str) -> None:
    (deployment,) = find(rendered(case), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize("case", VALUES)
def test_the_config_map_is_a_config_file_gitflink_reads(case: str, tmp_path: Path) -> None:
    (config_map,) = find(rendered(case), "ConfigMap")
    path = tmp_path / "gitflink.yaml"
    path.write_text(config_map["data"]["gitflink.yaml"])
    values = settings_file.read(path)
    assert values["repo"] == VALUES[case]["git"]["repo"]
    assert values["interval_seconds"] == 30
    assert "branch" in values


def test_the_default_one_agent_in_its_own_namespace() -> None:
    objects = rendered("default")
    (deployment,) = find(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # two agents never overlap
    env = env_of(objects)
    assert env["GITFLINK_NAMESPACES"] == "gitflink"
    assert env["GITFLINK_LEADER_ELECTION"] == "false"
    assert env["GITFLINK_RUNTIME"] == "kubernetes"
    assert "GITFLINK_STATUS" not in env and "GITFLINK_GIT_TOKEN_FILE" not in env
    assert [r["metadata"]["namespace"] for r in find(objects, "Role")] == ["gitflink"]
    assert find(objects, "CustomResourceDefinition") == []
    assert find(objects, "Ingress") == [] and find(objects, "ServiceMonitor") == []
    (service,) = find(objects, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_several_namespaces_each_get_a_role_bound_to_the_one_account() -> None:
    objects = rendered("several namespaces")
    assert env_of(objects)["GITFLINK_NAMESPACES"] == "team-a,team-b"
    roles = {o["metadata"]["namespace"] for o in find(objects, "Role")}
    bindings = find(objects, "RoleBinding")
    assert roles == {b["metadata"]["namespace"] for b in bindings} == {"team-a", "team-b"}
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "gitflink", "namespace": "gitflink"}
        ]


def test_cluster_wide_is_one_cluster_role_and_no_namespace_limit() -> None:
    objects = rendered("cluster-wide")
    assert "GITFLINK_NAMESPACES" not in env_of(objects)
    assert find(objects, "Role") == []
    (binding,) = find(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["kind"] == "ClusterRole"


def test_service_monitor_and_ingress_for_the_webhook() -> None:
    objects = rendered("monitored and exposed")
    (monitor,) = find(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    (ingress,) = find(objects, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "gitflink.example.com"
    assert [p["path"] for p in rule["http"]["paths"]] == ["/hooks/git"]


def test_cr_status_mode_installs_the_crds_and_grants_status_and_events() -> None:
    objects = rendered("cr status")
    assert env_of(objects)["GITFLINK_STATUS"] == "cr"
    crds = {c["metadata"]["name"]: c for c in find(objects, "CustomResourceDefinition")}
    for path in (ROOT / "schemas" / "crds").glob("*.yaml"):
        generated = YAML(typ="safe").load(path.read_text())
        assert crds[generated["metadata"]["name"]]["spec"] == generated["spec"]
        assert crds[generated["metadata"]["name"]]["metadata"]["annotations"] == {
            "helm.sh/resource-policy": "keep"
        }
    (role,) = find(objects, "Role", "team-a")
    granted = grants(role["rules"])
    assert ("flink.apache.org", "flinkdeployments/status", "update") in granted
    assert ("", "events", "create") in granted
    kept_out = render(with_repo({"status": {"mode": "cr"}, "crds": {"install": False}}))
    assert find(kept_out, "CustomResourceDefinition") == []


def test_the_chart_crds_are_the_generated_ones() -> None:
    generated = {p.name: p.read_text() for p in (ROOT / "schemas" / "crds").glob("*.yaml")}
    copied = {p.name: p.read_text() for p in (CHART / "files" / "crds").glob("*.yaml")}
    assert copied == generated, "cp schemas/crds/*.yaml charts/gitflink/files/crds/"


def test_more_replicas_elect_a_leader_and_credentials_come_from_secrets_as_files() -> None:
    objects = rendered("two replicas with credentials")
    (deployment,) = find(objects, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate"}
    env = env_of(objects)
    assert env["GITFLINK_LEADER_ELECTION"] == "true"
    assert (env["GITFLINK_LEASE_NAME"], env["GITFLINK_LEASE_NAMESPACE"]) == ("gitflink", "gitflink")
    (lease_role,) = [r for r in find(objects, "Role") if "leader" in r["metadata"]["name"]]
    assert grants(lease_role["rules"]) == {
        ("coordination.k8s.io", "leases", verb) for verb in ("create", "get", "update")
    }
    assert env["GITFLINK_GIT_SSH_KEY"] == "/etc/gitflink/git/ssh-privatekey"
    assert env["GITFLINK_GIT_KNOWN_HOSTS"] == "/etc/gitflink/git/known_hosts"
    assert env["GITFLINK_GIT_USERNAME"] == {
        "secretKeyRef": {"name": "git-credentials", "key": "user"}
    }
    assert "GITFLINK_GIT_TOKEN_FILE" not in env  # tokenKey emptied
    assert env["GITFLINK_WEBHOOK_SECRET_FILE"] == "/etc/gitflink/webhook/webhook-secret"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["git-credentials"]["secret"]["secretName"] == "git-credentials"
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "gitflink-data"}
    # The chart only names Secrets: it renders none.
    assert find(objects, "Secret") == []


def test_the_agent_holds_what_it_grants_flinks_pods() -> None:
    """With rbac.flinkRoles the agent may create the Roles of HA and native mode: RBAC lets it
    grant only what it holds itself (no `escalate`, no `bind`)."""
    (role,) = find(rendered("default"), "Role")
    granted = grants(role["rules"])
    assert grants(access.rules(native=True, ha=True)) <= granted
    assert not {verb for _, _, verb in granted} & {"escalate", "bind", "impersonate"}
    (off,) = find(render(with_repo({"rbac": {"flinkRoles": False}})), "Role")
    assert not {r for _, r, _ in grants(off["rules"])} & {"roles", "rolebindings", "leases"}


def test_every_variable_the_chart_sets_is_one_gitflink_reads() -> None:
    env = Recording()
    Settings.from_env(env)
    for case in VALUES:
        for name in env_of(rendered(case)):
            assert name in env.asked, name


def test_the_chart_runs_the_image_as_built() -> None:
    """The Dockerfile's user, data and cache dirs are the ones the chart runs and mounts."""
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    user = [c for c in commands if c.cmd == "USER"][-1].value[0]
    env = [c for c in commands if c.cmd == "ENV"][-1].value
    image_env = dict(zip(env[::2], env[1::2], strict=True))
    (deployment,) = find(rendered("default"), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    context = pod["securityContext"]
    assert f"{context['runAsUser']}:{context['runAsGroup']}" == user
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {image_env["GITFLINK_DATA_DIR"], image_env["GITFLINK_CACHE_DIR"], "/tmp"} <= mounts
    assert pod["containers"][0]["args"] == ["agent"]


@pytest.mark.parametrize(
    "values",
    [
        {"git": {"repo": REPO, "token": "s3cret"}},  # a secret value has no place in values
        {"git": {"repo": REPO}, "status": {"mode": "files"}},
        {"git": {"repo": REPO}, "watchNamespaces": ["Team_A"]},
        {"git": {"repo": REPO}, "replicaCount": -1},
    ],
)
def test_the_schema_refuses_values_that_do_not_fit(values: dict[str, Any]) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError):
        chart.validate_schema(values)


def test_a_missing_repository_is_a_clear_error() -> None:
    with pytest.raises(helm.HelmError, match=r"git\.repo"):
        render({})


def test_the_values_table_in_docs_is_generated_from_the_schema() -> None:
    assert documented_table() == values_table(), "python tests/support/helm_chart.py"


def test_the_namespaces_variable_is_a_comma_separated_list() -> None:
    assert Settings.from_env({"GITFLINK_NAMESPACES": "a, b,,"}).namespaces == ("a", "b")
    assert Settings.from_env({}).namespaces == ()


def test_the_chart_version_is_the_package_version() -> None:
    with helm.Chart.load(CHART) as chart:
        assert chart.metadata["appVersion"] == __version__
