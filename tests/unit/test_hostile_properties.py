"""Fuzzing the trust boundary: random and malformed YAML, hostile ids and corrupt status
documents go through parsing, validation, a whole pass and both status stores without an
uncaught exception and without a single write outside the data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.fakes import fake_world
from support.gitrepos import run_git
from test_parsing_properties import parse_and_validate, yaml_tokens

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore, documents
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import StatusLoad
from gitflink.ports import Ports
from gitflink.runtime.reconciler import PassConfig, run_pass

# Names an attacker or a careless committer would try, and anything else hypothesis finds.
hostile_text = st.one_of(
    st.sampled_from(
        [
            *("/".join([".."] * depth) for depth in range(1, 6)),
            "../../../clusters/default/orders",
            ".",
            "a/b",
            "/abs",
            "a\\b",
            "",
            " ",
            "ok",
            "x\x00y",
            "~",
            "-",
        ]
    ),
    st.text(alphabet="ab./\\-_~ \x00é", max_size=12),
    st.text(max_size=12),
)
ids = st.builds(ResourceId, st.sampled_from(list(Kind)), hostile_text, hostile_text)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def everything(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def manifest(kind: Kind, namespace: str, name: str) -> bytes:
    header = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": kind.value,
        "metadata": {"name": name, "namespace": namespace},
    }
    spec = {
        Kind.FLINK_DEPLOYMENT: '{"flinkVersion": "v1_20", "job": {"jarURI": "local:///j.jar"}}',
        Kind.FLINK_SESSION_JOB: '{"deploymentName": "s", "job": {"jarURI": "local:///j.jar"}}',
        Kind.FLINK_STATE_SNAPSHOT: '{"checkpoint": {}, "jobReference": {"name": "x"}}',
    }[kind]
    return (json.dumps(header)[:-1] + f', "spec": {spec}}}').encode()


@FUZZ
@given(st.lists(ids, min_size=1, max_size=3), st.lists(yaml_tokens, max_size=12))
def test_a_pass_over_hostile_ids_and_junk_never_raises_or_writes_outside_the_data_dir(
    tmp_path_factory: pytest.TempPathFactory, resources: list[ResourceId], junk: list[str]
) -> None:
    outer = tmp_path_factory.mktemp("outer")
    data = outer / "a" / "b" / "data"
    data.mkdir(parents=True)
    files = {f"r{i}.yaml": manifest(r.kind, r.namespace, r.name) for i, r in enumerate(resources)}
    files["junk.yaml"] = "".join(junk).encode()
    parse_and_validate(files)
    world = fake_world(files)
    ports = Ports(
        world.source, world.runtime, world.runtime.api, FileStatusStore(data), world.clock
    )
    result = run_pass(ports, PassConfig(max_workers=1))
    run_pass(ports, PassConfig(max_workers=1))  # and again, over what the first one wrote
    assert everything(outer) - everything(data) == {outer / "a", outer / "a" / "b", data}
    for rid in world.runtime.started:
        assert is_valid(rid), rid
    for execution in result.executions:
        assert is_valid(execution.resource) or not execution.ok


@FUZZ
@given(ids)
def test_the_file_store_either_stores_inside_its_root_or_refuses(
    tmp_path_factory: pytest.TempPathFactory, resource: ResourceId
) -> None:
    outer = tmp_path_factory.mktemp("outer")
    store = FileStatusStore(outer / "data")
    try:
        store.save(resource, ResourceStatus(), "fuzz")
    except StatusWriteError:
        assert not is_valid(resource)
        assert everything(outer) == set()
        return
    assert all(p.is_relative_to(store.root) for p in everything(outer / "data"))
    assert resource in store.load_all()


NESTED = [b"[" * 100_000, b"{" * 100_000, b"- " * 5_000 + b"x", b"a: !!timestamp 2020-13-45"]


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@example(NESTED[0])
@example(NESTED[1])
def test_a_corrupt_status_file_is_reported_never_raised(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    store = FileStatusStore(tmp_path_factory.mktemp("data"))
    rid = ResourceId(Kind.FLINK_DEPLOYMENT, "default", "orders")
    store.save(rid, ResourceStatus(), "fuzz")
    store.path_of(rid).write_bytes(raw)
    loaded = store.load_all()
    assert isinstance(loaded, StatusLoad)
    assert (rid in loaded) != bool(loaded.corrupt)


@FUZZ
@example(NESTED[0])
@example(NESTED[2])
@example(NESTED[3])
@given(
    st.binary(max_size=200) | st.lists(yaml_tokens, max_size=20).map(lambda t: "".join(t).encode())
)
def test_a_corrupt_status_branch_document_raises_only_the_typed_error(raw: bytes) -> None:
    try:
        documents.load(raw)
    except documents.Unreadable as error:
        assert "\n" not in str(error)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ids, min_size=1, max_size=4))
def test_the_status_branch_either_stores_a_valid_path_or_refuses(
    git_store: GitStatusStore, resources: list[ResourceId]
) -> None:
    for resource in resources:
        try:
            git_store.save(resource, ResourceStatus(), "fuzz")
        except StatusWriteError:
            assert not is_valid(resource)
        else:
            assert is_valid(resource)
    loaded = git_store.load_all()
    assert isinstance(loaded, StatusLoad) and loaded.corrupt == ()
    git_store.flush()


@pytest.fixture(scope="module")
def git_store(tmp_path_factory: pytest.TempPathFactory) -> GitStatusStore:
    root = tmp_path_factory.mktemp("git")
    run_git(root, "init", "-q", "--bare", str(root / "remote.git"))
    return GitStatusStore(
        (root / "remote.git").as_uri(), cache_dir=root / "cache", sleep=lambda _: None
    )
