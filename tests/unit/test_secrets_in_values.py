"""Secrets inside values, whatever their key: URL userinfo (`SASL_SSL://user:pw@host`), JDBC
passwords, `-D` options with a secret-looking name. Hidden in plans, fingerprinted in status
and commits (without causing upgrades), and the local runtime's config.yaml is 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.fakes import fake_world
from support.gitrepos import run_git
from support.passes import ORDERS, app
from test_planning import Record, status

from gitflink.adapters.local_runtime.configuring import ClusterLayout, write_config
from gitflink.adapters.local_runtime.installing import FlinkInstall
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import GitStatusStore, documents
from gitflink.core import redaction
from gitflink.core.plan_rendering import render_json, render_markdown, render_text
from gitflink.core.planning import plan_changes
from gitflink.model.fingerprints import scrub, unredact
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.resources import FlinkDeployment
from gitflink.ports import Ports
from gitflink.runtime.reconciler import run_pass

PW = "Tr0ub4dor"
CASES = [
    (f"SASL_SSL://svc:{PW}@broker:9093", "SASL_SSL://******@broker:9093"),
    (f"https://bot:{PW}@git.example.com/x.git", "https://******@git.example.com/x.git"),
    (f"jdbc:mysql://app:{PW}@db:3306/shop", "jdbc:mysql://******@db:3306/shop"),
    (
        f"jdbc:postgresql://db:5432/shop?user=app&password={PW}&ssl=true",
        "jdbc:postgresql://db:5432/shop?user=app&password=******&ssl=true",
    ),
    (f"jdbc:sqlserver://db;user=app;password={PW}", "jdbc:sqlserver://db;user=app;password=******"),
    (f"jdbc:oracle:thin:app/{PW}@db:1521/orcl", "jdbc:oracle:thin:******@db:1521/orcl"),
    (
        f"-Xmx1g -Dfoo.password={PW} -Dlog.level=INFO",
        "-Xmx1g -Dfoo.password=****** -Dlog.level=INFO",
    ),
    (f'-DdbPassword="{PW} x" -Da=b', "-DdbPassword=****** -Da=b"),
    (f"-Dssl.key={PW}", "-Dssl.key=******"),
]
PLAIN = ["s3://bucket/savepoints", "-Dlog.file=/tmp/x.log", "ops@example.com", "a=b", "x" * 50]


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_secrets_inside_a_value_are_hidden_whatever_its_key(value: str, shown: str) -> None:
    assert redaction.redact({"some.url": value}) == {"some.url": shown}
    # As an argument: hidden too (an argument that starts like a secret flag, `-Dx.password=`,
    # is hidden from its first '=' on).
    assert PW not in repr(redaction.redact(["--url", value]))
    assert redaction.redact(["--url", value])[1].startswith(shown.split("******", maxsplit=1)[0])
    assert redaction.redact([{"name": "DB_URL", "value": value}]) == [
        {"name": "DB_URL", "value": shown}
    ]


@pytest.mark.parametrize("value", PLAIN)
def test_values_without_secrets_are_shown_as_they_are(value: str) -> None:
    assert redaction.redact({"k": value}) == {"k": value}
    assert scrub({"k": value}) == {"k": value}


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_status_keeps_a_fingerprint_in_place_that_unredacts_only_to_the_same_value(
    value: str, shown: str
) -> None:
    stored = scrub({"k": value, "args": ["--url", value]})
    assert PW not in repr(stored)
    assert stored["k"].startswith(shown.split("******", maxsplit=1)[0])
    desired = {"k": value, "args": ["--url", value]}
    assert unredact(stored, desired) == desired
    changed = {"k": value.replace(PW, "other"), "args": ["--url", value]}
    assert unredact(stored, changed)["k"] == stored["k"]


def with_config(**config: str) -> bytes:
    extra = "".join(f"    {k}: '{v}'\n" for k, v in config.items())
    return app("orders").replace(
        b"    state.savepoints.dir:", extra.encode() + b"    state.savepoints.dir:"
    )


def test_plan_output_hides_secrets_inside_configuration_values_and_args() -> None:
    old = FlinkDeployment.model_validate(
        _doc(with_config(**{"env.java.opts.all": f"-Dpw.password={PW}"}))
    )
    new_text = with_config(
        **{"env.java.opts.all": "-Dpw.password=changed-too", "kafka.url": f"SASL_SSL://u:{PW}@b"}
    ).replace(b'["--rate", "10"]', f'["--jdbc", "jdbc:mysql://u:{PW}@db/x"]'.encode())
    new = FlinkDeployment.model_validate(_doc(new_text))
    plan = plan_changes(
        [Record(new)],
        {new.id: Observed(status(old), cluster_running=True, job=LiveJob("j", "RUNNING"))},
    )
    for render in (render_text, render_markdown, render_json):
        text = render(plan)
        assert PW not in text and "changed-too" not in text, render.__name__
    assert "SASL_SSL://******@b" in render_text(plan)


def _doc(raw: bytes) -> object:
    return YAML(typ="safe", pure=True).load(raw.decode())


def test_status_file_and_status_branch_never_hold_the_secret_and_nothing_is_upgraded(
    tmp_path: Path,
) -> None:
    manifest = with_config(**{"kafka.url": f"SASL_SSL://u:{PW}@b:9093"}).replace(
        b'["--rate", "10"]', f'["--jdbc", "jdbc:mysql://u:{PW}@db/x"]'.encode()
    )
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(remote))
    for store in (
        FileStatusStore(tmp_path / "data"),
        GitStatusStore(remote.as_uri(), cache_dir=tmp_path / "cache", sleep=lambda _: None),
    ):
        world = fake_world({"streaming/orders.yaml": manifest})  # one status store per world
        ports = Ports(world.source, world.runtime, world.runtime.api, store, world.clock)
        assert run_pass(ports).ok
        if isinstance(store, GitStatusStore):
            store.flush()  # as the agent does after each pass
        again = run_pass(ports)
        assert [e.action.value for e in again.executions] == ["none"]
        if isinstance(store, GitStatusStore):
            store.flush()  # the branch gets the passes' commit here, as the agent flushes
    assert PW not in FileStatusStore(tmp_path / "data").path_of(ORDERS).read_text()
    history = run_git(remote, "log", "-p", "--format=%B", "gitflink/status")
    assert "SASL_SSL://redacted:" in history and PW not in history


def test_local_runtime_writes_its_flink_configuration_readable_by_its_user_only(
    tmp_path: Path,
) -> None:
    home = tmp_path / "flink"
    (home / "conf").mkdir(parents=True)
    layout = ClusterLayout(tmp_path / "cluster")
    layout.create()
    path = write_config(FlinkInstall(home, "1.20.1"), layout, {"s3.secret-key": PW})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PW in path.read_text()  # Flink needs the real value
    path.chmod(0o644)  # a rewrite (configuration changed) tightens it again
    write_config(FlinkInstall(home, "1.20.1"), layout, {"s3.secret-key": PW})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_commit_message_quoting_a_secret_inside_a_value_hides_it() -> None:
    change = documents.Change(
        ORDERS, "error", None, None, f"connect to jdbc:mysql://app:{PW}@db/x failed", False
    )
    message = documents.commit_message([change])
    assert PW not in message and "jdbc:mysql://******@db/x" in message
