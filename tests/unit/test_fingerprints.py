"""Secrets in recorded specs are fingerprints: an unchanged secret plans as no change after a
restart, a changed one plans as a change, and neither ever shows the secret."""

from __future__ import annotations

from pathlib import Path

from support.planning_builders import Record, deployment, status

from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.status_git import documents
from gitflink.core import planning
from gitflink.core.plan_rendering import render_json
from gitflink.model.fingerprints import fingerprint, is_fingerprint, scrub, unredact
from gitflink.model.observed import LiveJob, Observed
from gitflink.model.plan import Action, DiffClass
from gitflink.model.resources import FlinkDeployment
from gitflink.model.status import ResourceStatus

SECRET = "hunter2-canary"


def with_secret(value: str) -> FlinkDeployment:
    base = deployment("savepoint").to_manifest()
    base["spec"]["flinkConfiguration"] = {"s3.secret-key": value, "s3.endpoint": "http://minio"}
    return FlinkDeployment.model_validate(base)


def reloaded_status(resource: FlinkDeployment) -> ResourceStatus:
    """The status as a fresh process reads it back from the status branch (no vault)."""
    text = documents.dump(status(resource))
    assert SECRET.encode() not in text
    return documents.load(text)


def test_fingerprint_is_deterministic_and_hides_the_value() -> None:
    assert fingerprint(SECRET, "s3.secret-key") == fingerprint(SECRET, "s3.secret-key")
    assert fingerprint(SECRET, "s3.secret-key") != fingerprint(SECRET, "other.key")
    assert SECRET not in fingerprint(SECRET, "s3.secret-key")
    assert is_fingerprint(fingerprint(SECRET, "k"))


def test_unredact_restores_only_matching_values() -> None:
    stored = {"a": fingerprint("x", "a"), "b": fingerprint("y", "b"), "c": "plain"}
    assert unredact(stored, {"a": "x", "b": "changed", "c": "plain"}) == {
        "a": "x",
        "b": fingerprint("y", "b"),
        "c": "plain",
    }


def test_unchanged_secret_after_restart_plans_no_change() -> None:
    running = with_secret(SECRET)
    observed = Observed(reloaded_status(running), cluster_running=True, job=LiveJob("j", "RUNNING"))
    plan = planning.plan_changes([Record(running)], {running.id: observed})
    (job,) = plan.jobs
    assert job.action is Action.NONE
    assert job.diff is DiffClass.NONE


def test_changed_secret_after_restart_is_an_upgrade_that_never_shows_either_value() -> None:
    running = with_secret(SECRET)
    observed = Observed(reloaded_status(running), cluster_running=True, job=LiveJob("j", "RUNNING"))
    desired = with_secret("rotated-canary")
    plan = planning.plan_changes([Record(desired)], {desired.id: observed})
    (job,) = plan.jobs
    assert job.action is Action.UPGRADE
    assert [change.path for change in job.fields] == ["spec.flinkConfiguration[s3.secret-key]"]
    rendered = render_json(plan)
    assert SECRET not in rendered and "rotated-canary" not in rendered


def test_scrub_hides_every_kind_of_secret_and_unredact_restores_them() -> None:
    spec = {
        "flinkConfiguration": {"s3.secret-key": SECRET, "s3.endpoint": "http://minio"},
        "job": {"args": ["--db-password", SECRET, "--api-token=" + SECRET, "--rate", "5"]},
        "podTemplate": {
            "env": [{"name": "DB_PASSWORD", "value": SECRET}, {"name": "X", "value": "1"}]
        },
        "credentials": {"nested": {"deeper": SECRET}},
    }
    scrubbed = scrub(spec)
    assert SECRET not in repr(scrubbed)
    assert scrubbed["flinkConfiguration"]["s3.endpoint"] == "http://minio"
    assert scrubbed["job"]["args"][0] == "--db-password"
    assert scrubbed["job"]["args"][3:] == ["--rate", "5"]
    assert scrubbed["podTemplate"]["env"][1] == {"name": "X", "value": "1"}
    assert scrub(scrubbed) == scrubbed  # a status loaded back and saved again stays the same
    assert unredact(scrubbed, spec) == spec


def test_status_file_keeps_no_secret_argument(tmp_path: Path) -> None:
    running = deployment("savepoint", args=["--db-password", SECRET, "--rate", "5"])
    store = FileStatusStore(tmp_path)
    store.save(running.id, status(running), "deployed")
    assert SECRET not in store.path_of(running.id).read_text()
    observed = Observed(store.load(running.id), cluster_running=True, job=LiveJob("j", "RUNNING"))
    plan = planning.plan_changes([Record(running)], {running.id: observed})
    assert plan.jobs[0].action is Action.NONE
