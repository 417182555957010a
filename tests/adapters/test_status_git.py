"""GitStatusStore against a real bare repository: documents, commits, batching, conflicts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.gitrepos import run_git

from gitflink.adapters.status_git import GitStatusStore
from gitflink.model.fingerprints import unredact
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import (
    HistoryEntry,
    JobStatus,
    LifecycleState,
    PendingChange,
    ReconciliationStatus,
    ResourceStatus,
    Snapshot,
)

BRANCH = "gitflink/status"
SHA = "0123456789abcdef0123456789abcdef01234567"


def rid(name: str) -> ResourceId:
    return ResourceId(Kind.FLINK_DEPLOYMENT, "default", name)


def stable(revision: str = SHA, savepoint: str | None = None) -> ResourceStatus:
    job = JobStatus(job_id="j1", state="RUNNING")
    if savepoint:
        job.last_savepoint = Snapshot(path=savepoint, revision=revision)
    return ResourceStatus(
        lifecycle_state=LifecycleState.STABLE,
        job_status=job,
        applied_revision=revision,
        observed_revision=revision,
        history=[HistoryEntry(revision=revision, action="upgrade", savepoint=savepoint)],
    )


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    # A force-push would be refused outright: the store must never need one.
    run_git(bare, "config", "receive.denyNonFastForwards", "true")
    return bare


def store(remote: Path, tmp_path: Path, name: str = "agent") -> GitStatusStore:
    return GitStatusStore(remote.as_uri(), cache_dir=tmp_path / name, sleep=lambda _: None)


def log(remote: Path) -> list[str]:
    return run_git(remote, "log", "--format=%s", BRANCH).splitlines()


def test_saved_status_is_one_yaml_document_per_resource_on_the_status_branch(
    remote: Path, tmp_path: Path
) -> None:
    s = store(remote, tmp_path)
    s.save(rid("orders"), stable(savepoint="file:///sp/1"), "upgraded")
    s.flush()
    text = run_git(remote, "show", f"{BRANCH}:status/default/flinkdeployment/orders.yaml")
    assert "lifecycleState: STABLE" in text
    assert f"appliedRevision: {SHA}" in text
    message = run_git(remote, "log", "-1", "--format=%B", BRANCH)
    assert message.splitlines()[0] == f"gitflink: default/orders upgraded @ {SHA[:7]}"
    assert f"Gitflink-Revision: {SHA}" in message
    assert "Gitflink-Savepoint: file:///sp/1" in message
    trailers = run_git(remote, "log", "-1", "--format=%(trailers:key=Gitflink-Savepoint)", BRANCH)
    assert "file:///sp/1" in trailers


def test_a_new_store_reads_what_was_pushed(remote: Path, tmp_path: Path) -> None:
    s = store(remote, tmp_path, "one")
    s.save(rid("orders"), stable(), "deployed")
    s.flush()
    reader = store(remote, tmp_path, "two")
    assert reader.load(rid("orders")) == stable()
    assert set(reader.load_all()) == {rid("orders")}


def test_saves_of_a_pass_become_one_commit_and_unchanged_saves_none(
    remote: Path, tmp_path: Path
) -> None:
    s = store(remote, tmp_path)
    s.save(rid("a"), stable(), "ok")
    s.save(rid("b"), stable(), "ok")
    s.flush()
    s.save(rid("a"), stable(), "ok")
    s.flush()
    assert log(remote) == [f"gitflink: default/a upgraded, default/b upgraded @ {SHA[:7]}"]


def _in_flight() -> ResourceStatus:
    wal = stable()
    wal.lifecycle_state = LifecycleState.UPGRADING
    wal.pending = PendingChange(action="upgrade", revision=SHA, target_spec={"job": {}})
    return wal


def test_write_ahead_entry_is_on_the_remote_before_save_returns(
    remote: Path, tmp_path: Path
) -> None:
    s = store(remote, tmp_path)
    s.save(rid("orders"), _in_flight(), "stopping with savepoint")
    # Beside the branch, not on it: the branch reads one commit per pass.
    text = run_git(
        remote, "show", f"refs/gitflink/wal/{BRANCH}:status/default/flinkdeployment/orders.yaml"
    )
    assert "pending:" in text
    assert run_git(remote, "branch", "--list", BRANCH) == ""
    s.save(rid("orders"), stable(), "upgraded")
    s.flush()
    assert log(remote) == [f"gitflink: default/orders upgraded @ {SHA[:7]}"]
    assert run_git(remote, "for-each-ref", "refs/gitflink") == ""  # dropped once flushed


def test_a_resumed_change_saving_its_unchanged_intent_after_a_restart_writes_nothing(
    remote: Path, tmp_path: Path
) -> None:
    """Found by the crash matrix: killed after the journal, before the write-ahead push, the
    restarted pass saved the same intent again and failed on an empty commit."""
    crashed = store(remote, tmp_path)
    crashed.save(rid("orders"), _in_flight(), "upgrade started (intent recorded)")
    del crashed
    restarted = store(remote, tmp_path)  # pushes what the journal held
    head = run_git(remote, "rev-parse", BRANCH)
    restarted.save(rid("orders"), _in_flight(), "upgrade started (intent recorded)")
    restarted.flush()
    assert run_git(remote, "rev-parse", BRANCH) == head


def test_a_write_ahead_entry_survives_losing_the_machine(remote: Path, tmp_path: Path) -> None:
    first = store(remote, tmp_path)
    first.save(rid("other"), stable(), "deployed")
    first.flush()
    first.save(rid("orders"), _in_flight(), "stopping with savepoint")
    del first  # the machine is gone, its cache with it: only the remote is left
    replacement = store(remote, tmp_path, "new-machine")
    recovered = replacement.load(rid("orders"))
    assert recovered is not None and recovered.pending is not None
    assert log(remote)[0].startswith("gitflink: default/orders")
    text = run_git(remote, "show", f"{BRANCH}:status/default/flinkdeployment/orders.yaml")
    assert "pending:" in text and run_git(remote, "for-each-ref", "refs/gitflink") == ""


def test_a_write_ahead_entry_superseded_by_a_flush_is_never_applied_again(
    remote: Path, tmp_path: Path
) -> None:
    s = store(remote, tmp_path)
    s.save(rid("orders"), _in_flight(), "stopping with savepoint")
    wal = run_git(remote, "rev-parse", f"refs/gitflink/wal/{BRANCH}")
    s.save(rid("orders"), stable(), "upgraded")
    s.flush()
    run_git(remote, "update-ref", f"refs/gitflink/wal/{BRANCH}", wal)  # its drop was lost
    later = store(remote, tmp_path, "later")
    status = later.load(rid("orders"))
    assert status is not None and status.pending is None
    assert run_git(remote, "for-each-ref", "refs/gitflink") == ""


def test_unpushed_saves_survive_a_crash_and_are_pushed_by_the_next_start(
    remote: Path, tmp_path: Path
) -> None:
    crashed = store(remote, tmp_path)
    crashed.save(rid("orders"), stable(), "deployed")
    del crashed  # no flush: the process died here
    restarted = store(remote, tmp_path)
    assert restarted.load(rid("orders")) == stable()
    assert run_git(remote, "show", f"{BRANCH}:status/default/flinkdeployment/orders.yaml")


def test_secret_configuration_values_never_reach_the_branch(remote: Path, tmp_path: Path) -> None:
    s = store(remote, tmp_path)
    status = stable()
    spec = {"flinkConfiguration": {"s3.secret-key": "canary-9f2e", "taskmanager.slots": "2"}}
    status.reconciliation = ReconciliationStatus(last_applied_spec=spec)
    s.save(rid("orders"), status, "deployed")
    s.flush()
    history = run_git(remote, "log", "-p", BRANCH)
    assert "canary-9f2e" not in history
    assert "taskmanager.slots" in history
    # Read back, the secret is a fingerprint that still matches the deployed value.
    loaded = s.load(rid("orders"))
    assert loaded is not None and loaded.reconciliation.last_applied_spec is not None
    assert "canary-9f2e" not in repr(loaded)
    assert unredact(loaded.reconciliation.last_applied_spec, spec) == spec


def test_delete_removes_the_document(remote: Path, tmp_path: Path) -> None:
    s = store(remote, tmp_path)
    s.save(rid("orders"), stable(), "deployed")
    s.delete(rid("orders"), "removed from Git")
    assert s.load(rid("orders")) is None
    assert log(remote)[0] == "gitflink: default/orders deleted"


def test_a_push_rejected_by_a_newer_tip_is_reapplied_on_top(remote: Path, tmp_path: Path) -> None:
    first, second = store(remote, tmp_path, "one"), store(remote, tmp_path, "two")
    first.save(rid("a"), stable(), "ok")
    first.flush()
    second.save(rid("b"), stable(), "ok")  # built on the empty branch: rejected, then re-applied
    second.flush()
    names = run_git(remote, "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert names == [
        "status/default/flinkdeployment/a.yaml",
        "status/default/flinkdeployment/b.yaml",
    ]


def test_two_agents_pushing_concurrently_lose_no_update(remote: Path, tmp_path: Path) -> None:
    agents = [store(remote, tmp_path, f"agent{i}") for i in range(2)]

    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for n in range(8):
                agents[index].save(rid(f"r{index}-{n}"), stable(), "ok")
                agents[index].flush()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = run_git(remote, "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert len(names) == 16
    assert len(log(remote)) == 16
    # Linear history: every commit has exactly one parent except the first.
    parents = run_git(remote, "log", "--format=%H %P", BRANCH).splitlines()
    assert [len(p.split()) - 1 for p in parents] == [1] * 15 + [0]


def test_status_documents_validate_against_the_published_schema(
    remote: Path, tmp_path: Path
) -> None:
    import json

    import jsonschema
    from ruamel.yaml import YAML

    s = store(remote, tmp_path)
    status = stable(savepoint="file:///sp/2")
    status.pending = PendingChange(action="upgrade", revision=SHA, target_spec={"job": {}})
    s.save(rid("orders"), status, "upgrading")
    s.flush()
    text = run_git(remote, "show", f"{BRANCH}:status/default/flinkdeployment/orders.yaml")
    schema_path = Path(__file__).parents[2] / "schemas" / "status.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(YAML(typ="safe").load(text), schema)


def test_one_upgrade_reads_as_its_write_ahead_points_and_its_outcome(
    remote: Path, tmp_path: Path
) -> None:
    from support.fakes import fake_world
    from support.passes import app

    from gitflink.ports import Ports
    from gitflink.runtime.reconciler import run_pass

    world = fake_world({"streaming/orders.yaml": app("orders")})
    status_store = store(remote, tmp_path)
    ports = Ports(world.source, world.runtime, world.runtime.api, status_store, world.clock)
    assert run_pass(ports).ok
    status_store.flush()  # as the agent does after each pass
    upgrade = world.source.commit({"streaming/orders.yaml": app("orders", rate=20)})
    assert run_pass(ports).ok
    status_store.flush()
    # One commit per pass on the branch; the write-ahead points went to the write-ahead ref.
    assert log(remote) == [
        f"gitflink: streaming/orders upgraded @ {upgrade.sha[:7]}",
        f"gitflink: streaming/orders deployed @ {'a' * 7}",
    ]
    assert run_git(remote, "for-each-ref", "refs/gitflink") == ""
