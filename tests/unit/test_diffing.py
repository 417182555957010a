"""Diffing: the kinds declared on the model fields decide what each change means."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gitflink.core import diffing, redaction
from gitflink.model.diffkind import ByMode, DiffKind, PerKey
from gitflink.model.resources import FlinkDeploymentSpec, FlinkSessionJobSpec


def walk(model: type[BaseModel], prefix: str = "spec") -> list[tuple[str, Any]]:
    found = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{info.alias or name}"
        found.append((path, diffing.declared_kind(model, name)))
        nested = diffing.nested_model(model, name)
        if nested is not None:
            found += walk(nested, path)
    return found


@pytest.mark.parametrize("model", [FlinkDeploymentSpec, FlinkSessionJobSpec])
def test_every_spec_field_declares_its_diff_kind(model: type[BaseModel]) -> None:
    undeclared = [path for path, kind in walk(model) if kind is None]
    assert undeclared == []


def test_walk_sees_nested_fields() -> None:
    paths = dict(walk(FlinkDeploymentSpec))
    scale_in_standalone = ByMode(native=DiffKind.UPGRADE, standalone=DiffKind.SCALE)
    assert paths["spec.job.parallelism"] == scale_in_standalone
    assert paths["spec.taskManager.replicas"] == scale_in_standalone
    assert isinstance(paths["spec.flinkConfiguration"], PerKey)


def spec(**fields: Any) -> FlinkDeploymentSpec:
    job = {"jarURI": "local:///job.jar", "parallelism": 2, **fields.pop("job", {})}
    return FlinkDeploymentSpec.model_validate({"image": "flink:1.20", "job": job, **fields})


def kinds(before: FlinkDeploymentSpec, after: FlinkDeploymentSpec) -> dict[str, DiffKind]:
    return {change.path: change.kind for change in diffing.diff_specs(before, after)}


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("upgradeMode", "savepoint", DiffKind.IGNORE),
        ("initialSavepointPath", "file:///sp", DiffKind.IGNORE),
        ("allowNonRestoredState", True, DiffKind.IGNORE),
        ("savepointTriggerNonce", 1, DiffKind.IGNORE),
        ("checkpointTriggerNonce", 1, DiffKind.IGNORE),
        ("autoscalerResetNonce", 1, DiffKind.IGNORE),
        ("savepointRedeployNonce", 1, DiffKind.SAVEPOINT_REDEPLOY),
        ("parallelism", 8, DiffKind.UPGRADE),  # native mode (mode unset): see below
        ("entryClass", "com.example.Main", DiffKind.UPGRADE),
        ("args", ["--x"], DiffKind.UPGRADE),
        ("jarURI", "local:///other.jar", DiffKind.UPGRADE),
    ],
)
def test_job_field_kinds_follow_upstream(field: str, value: Any, kind: DiffKind) -> None:
    assert kinds(spec(), spec(job={field: value})) == {f"spec.job.{field}": kind}


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("kubernetes.operator.periodic.savepoint.interval", DiffKind.IGNORE),
        ("job.autoscaler.enabled", DiffKind.IGNORE),
        ("parallelism.default", DiffKind.IGNORE),
        ("pipeline.jobvertex-parallelism-overrides", DiffKind.SCALE),
        ("state.backend.type", DiffKind.UPGRADE),
        ("kubernetes.operatorx", DiffKind.UPGRADE),
    ],
)
def test_configuration_keys_are_classified_by_prefix(key: str, kind: DiffKind) -> None:
    after = spec(flinkConfiguration={key: "v"})
    assert kinds(spec(), after) == {f"spec.flinkConfiguration[{key}]": kind}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image", "flink:2.0"),
        ("flinkVersion", "v2_0"),
        ("logConfiguration", {"log4j-console.properties": "x"}),
        ("podTemplate", {"spec": {"containers": [{"name": "c"}]}}),
        ("ingress", {"template": "x"}),
        ("restartNonce", 3),
        ("jobManager", {"replicas": 2}),
    ],
)
def test_everything_else_is_an_upgrade(field: str, value: Any) -> None:
    assert diffing.diff_kind(diffing.diff_specs(spec(), spec(**{field: value}))) is DiffKind.UPGRADE


@pytest.mark.parametrize(
    ("before", "after", "native", "standalone"),
    [
        ({"job": {"parallelism": 2}}, {"job": {"parallelism": 8}}, "UPGRADE", "SCALE"),
        ({"taskManager": {"replicas": 2}}, {"taskManager": {"replicas": 3}}, "UPGRADE", "SCALE"),
        (
            {"flinkConfiguration": {"pipeline.jobvertex-parallelism-overrides": "a:1"}},
            {"flinkConfiguration": {"pipeline.jobvertex-parallelism-overrides": "a:2"}},
            "SCALE",
            "UPGRADE",
        ),
    ],
)
def test_scale_kinds_depend_on_the_deployment_mode(
    before: dict[str, Any], after: dict[str, Any], native: str, standalone: str
) -> None:
    """SpecDiffTest.testFlinkDeploymentSpecChanges: parallelism and replicas are SCALE only in
    standalone mode; the parallelism overrides are SCALE in native mode, UPGRADE in standalone."""
    old, new = spec(**before), spec(**after)
    assert diffing.diff_kind(diffing.diff_specs(old, new)) is DiffKind[native]
    found = diffing.diff_specs(old, new, standalone=True)
    assert diffing.diff_kind(found) is DiffKind[standalone]


def test_session_job_parallelism_follows_its_clusters_mode() -> None:
    """SpecDiffTest.testFlinkSessionJobSpecChanges: UPGRADE in native, SCALE in standalone."""

    def job(parallelism: int) -> FlinkSessionJobSpec:
        return FlinkSessionJobSpec.model_validate(
            {"deploymentName": "s", "job": {"jarURI": "local:///j.jar", "parallelism": parallelism}}
        )

    assert diffing.diff_kind(diffing.diff_specs(job(1), job(2))) is DiffKind.UPGRADE
    found = diffing.diff_specs(job(1), job(2), standalone=True)
    assert diffing.diff_kind(found) is DiffKind.SCALE


@pytest.mark.parametrize("owner", ["", "jobManager", "taskManager"])
def test_pod_only_leftovers_in_a_pod_template_are_no_change(owner: str) -> None:
    """SpecDiffTest.testPodTemplateChanges, read for today's PodTemplateSpec: a template written
    as a whole Pod (apiVersion, kind, status) carries fields no pod gets."""
    body = {"spec": {"containers": [{"name": "flink-main-container"}]}}
    leftovers = {"apiVersion": "v1", "kind": "Pod", "status": {}}

    def with_template(template: dict[str, Any]) -> FlinkDeploymentSpec:
        return spec(**({owner: {"podTemplate": template}} if owner else {"podTemplate": template}))

    assert diffing.diff_specs(with_template(body), with_template({**leftovers, **body})) == ()
    changed = {**body, "metadata": {"labels": {"a": "b"}}}
    assert diffing.diff_kind(diffing.diff_specs(with_template(body), with_template(changed))) is (
        DiffKind.UPGRADE
    )


def test_a_configuration_list_equals_its_values_joined_by_semicolons() -> None:
    """The operator flattens a list value of flinkConfiguration to `a;b` before diffing."""
    listed = spec(flinkConfiguration={"env.java.opts.all": ["-Da=1", "-Db=2"]})
    joined = spec(flinkConfiguration={"env.java.opts.all": "-Da=1;-Db=2"})
    assert diffing.diff_specs(listed, joined) == ()
    other = spec(flinkConfiguration={"env.java.opts.all": "-Da=1"})
    assert diffing.diff_kind(diffing.diff_specs(listed, other)) is DiffKind.UPGRADE


def test_nonce_from_null_counts_and_back_to_null_is_ignored() -> None:
    with_nonce = spec(restartNonce=1)
    assert kinds(spec(), with_nonce) == {"spec.restartNonce": DiffKind.UPGRADE}
    assert kinds(with_nonce, spec()) == {"spec.restartNonce": DiffKind.IGNORE}


def test_diff_kind_is_the_maximum_over_changed_fields() -> None:
    after = spec(image="flink:2.0", job={"parallelism": 8, "upgradeMode": "savepoint"})
    assert diffing.diff_kind(diffing.diff_specs(spec(), after)) is DiffKind.UPGRADE
    assert diffing.diff_kind(()) is None


def test_nested_and_dotted_configuration_are_the_same() -> None:
    nested = spec(flinkConfiguration={"state": {"backend": {"type": "rocksdb"}}, "a.b": 2})
    dotted = spec(flinkConfiguration={"state.backend.type": "rocksdb", "a": {"b": "2"}})
    assert diffing.diff_specs(nested, dotted) == ()


def test_a_changed_list_of_values_is_shown_whole() -> None:
    (change,) = diffing.diff_specs(
        spec(job={"args": ["a", "b"]}), spec(job={"args": ["a", "c", "b"]})
    )
    assert (change.path, change.before, change.after) == (
        "spec.job.args",
        ["a", "b"],
        ["a", "c", "b"],
    )


def test_sensitive_configuration_values_are_hidden() -> None:
    before = spec(flinkConfiguration={"s3.secret-key": "one", "kafka.sasl.jaas.config": "x"})
    after = spec(flinkConfiguration={"s3.secret-key": "two", "kafka.sasl.jaas.config": "y"})
    changes = diffing.diff_specs(before, after)
    assert {(c.before, c.after) for c in changes} == {("******", "******")}


def test_container_env_secrets_are_hidden_by_name() -> None:
    def template(value: str) -> dict[str, Any]:
        env = [{"name": "DB_PASSWORD", "value": value}, {"name": "MODE", "value": value}]
        return {"spec": {"containers": [{"name": "main", "env": env}]}}

    changes = diffing.diff_specs(spec(podTemplate=template("a")), spec(podTemplate=template("b")))
    shown = {c.path: c.after for c in changes}
    assert shown == {
        "spec.podTemplate.spec.containers[0].env[0].value": "******",
        "spec.podTemplate.spec.containers[0].env[1].value": "b",
    }


@pytest.mark.parametrize(
    "key",
    [
        "security.ssl.keystore-password",
        "fs.azure.account.key.acct",
        "my.apikey",
        "s3.access.key",
        "http.auth-params",
        "x.service-key",
        "a.token",
        "b.basic-auth",
        "c.jaas.config",
        "rest.http-headers",
        "AWS_SECRET",
        "gcs.credentials.json",
    ],
)
def test_flink_sensitive_keys_are_recognised(key: str) -> None:
    assert redaction.is_sensitive(key)


@pytest.mark.parametrize(
    "key", ["state.backend.type", "taskmanager.numberOfTaskSlots", "pipeline.name"]
)
def test_ordinary_keys_are_not_hidden(key: str) -> None:
    assert not redaction.is_sensitive(key)


config_values = st.one_of(st.integers(0, 9), st.booleans(), st.text("abc", max_size=3))
specs = st.builds(
    lambda parallelism, config, args, mode: spec(
        flinkConfiguration=config,
        job={"parallelism": parallelism, "args": args, "upgradeMode": mode},
    ),
    st.integers(1, 64),
    st.dictionaries(st.sampled_from(["a.b", "kubernetes.operator.x", "s.password"]), config_values),
    st.lists(st.text("xyz", max_size=2), max_size=3),
    st.sampled_from(["stateless", "savepoint", "last-state"]),
)


@settings(deadline=None)
@given(specs)
def test_a_spec_never_differs_from_itself(value: FlinkDeploymentSpec) -> None:
    assert diffing.diff_specs(value, value.model_copy(deep=True)) == ()


@settings(deadline=None)
@given(specs, specs)
def test_diffing_is_symmetric_in_the_paths_it_finds(
    a: FlinkDeploymentSpec, b: FlinkDeploymentSpec
) -> None:
    forward = {c.path for c in diffing.diff_specs(a, b)}
    assert forward == {c.path for c in diffing.diff_specs(b, a)}
    assert (forward == set()) == (diffing.comparable(a) == diffing.comparable(b))


def test_the_field_walk_reports_an_undeclared_field() -> None:
    class Undeclared(BaseModel):
        declared: Annotated[int, DiffKind.SCALE] = 1
        forgotten: int = 0

    assert dict(walk(Undeclared)) == {"spec.declared": DiffKind.SCALE, "spec.forgotten": None}
