"""model.requests: a manual rollback another writer recorded since a pass read the status is
kept when the pass saves over it; anything else is the pass's to decide."""

from __future__ import annotations

from gitflink.model.requests import keep_requests
from gitflink.model.rollback import Rollback
from gitflink.model.status import ResourceStatus


def status(rollback: Rollback | None = None, error: str | None = None) -> ResourceStatus:
    found = ResourceStatus(error=error)
    found.reconciliation.rollback = rollback
    return found


REQUEST = Rollback(git_digest="d", reason="gitflink rollback --to 1234567", manual=True)
AUTOMATIC = Rollback(git_digest="d", reason="the change failed")


def test_a_request_recorded_meanwhile_is_carried_into_what_the_pass_saves() -> None:
    kept = keep_requests(status(), status(REQUEST), status(error="seen"))
    assert kept.reconciliation.rollback == REQUEST and kept.error == "seen"


def test_what_the_pass_already_knew_or_decided_is_its_own() -> None:
    ours = status(error="seen")
    # The pass read the request and cleared it (Git moved on): cleared stays cleared.
    assert keep_requests(status(REQUEST), status(REQUEST), ours) is ours
    # Not a request: an automatic rollback record is the agent's own.
    assert keep_requests(status(), status(AUTOMATIC), ours) is ours
    # Nothing known to compare with, or nothing stored.
    assert keep_requests(None, status(REQUEST), ours) is ours
    assert keep_requests(status(), None, ours) is ours
    taken = status(REQUEST)
    assert keep_requests(status(), status(REQUEST), taken) is taken


def test_a_savepoint_asked_for_meanwhile_is_carried_and_one_taken_is_not_asked_again() -> None:
    asked = status()
    asked.job_status.savepoint_request = "one-off@2026-12-06T12:00:00+00:00"
    kept = keep_requests(status(), asked, status(error="seen"))
    assert kept.job_status.savepoint_request == asked.job_status.savepoint_request
    assert kept.error == "seen"
    taken = status()  # the pass took it and cleared the request
    assert keep_requests(asked, asked, taken) is taken
