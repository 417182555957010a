"""The built-in listeners against a local HTTP server that checks each request: the webhook's
JSON and HMAC signature, retries with capped backoff, GitHub and GitLab commit statuses, and
tokens that never reach a log line or a payload."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

import pytest
from support.http_recorder import http_recorder
from support.passes import ORDERS

from gitflink.adapters.notify import (
    Delivery,
    DeliveryFailed,
    GitHubCommitStatus,
    GitLabCommitStatus,
    Retry,
    WebhookListener,
)
from gitflink.model.notifications import (
    EventType,
    ResourceEvent,
    RevisionState,
    RevisionStateKind,
)
from gitflink.settings import Secret

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SHA = "c0ffee" + "0" * 34
TOKEN = "canary-token-5f1e"
EVENT = ResourceEvent(ORDERS, EventType.NORMAL, "Upgrade", "upgrade: job running", SHA, NOW)


class Waits:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def delivery(attempts: int = 4, backoff: float = 1.0, cap: float = 2.0) -> tuple[Delivery, Waits]:
    waits = Waits()
    return Delivery(retry=Retry(attempts, backoff, cap), sleep=waits, timeout=2.0), waits


def test_webhook_posts_the_event_as_json_signed_with_the_secret() -> None:
    with http_recorder() as server:
        send, _ = delivery()
        hook = WebhookListener(f"{server.url}/hooks/flink", secret=Secret("s3cret"), delivery=send)
        hook.on_event(EVENT)
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/hooks/flink")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-gitflink-event"] == "event"
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-gitflink-signature-256"] == f"sha256={expected}"
    body = json.loads(request.body)
    assert body["resource"] == {
        "kind": "FlinkDeployment",
        "namespace": "streaming",
        "name": "orders",
    }
    assert (body["reason"], body["eventType"], body["revision"]) == ("Upgrade", "Normal", SHA)
    assert "s3cret" not in request.body.decode()


def test_webhook_without_a_secret_sends_no_signature() -> None:
    with http_recorder() as server:
        send, _ = delivery()
        WebhookListener(server.url, delivery=send).on_event(EVENT)
    assert "x-gitflink-signature-256" not in server.requests[0].headers


def test_server_errors_are_retried_with_capped_backoff_then_delivered() -> None:
    with http_recorder(codes=[503, 500, 429, 200]) as server:
        send, waits = delivery(attempts=5, backoff=1.0, cap=2.0)
        WebhookListener(server.url, delivery=send).on_event(EVENT)
    assert len(server.requests) == 4
    assert len(waits.waits) == 3
    assert all(w <= 2.0 for w in waits.waits)  # capped
    assert 0.5 <= waits.waits[0] <= 1.0 and waits.waits[2] >= 1.0  # doubled, jittered


def test_a_client_error_is_final_and_names_only_the_host() -> None:
    with http_recorder(codes=[404]) as server:
        send, waits = delivery()
        hook = WebhookListener(f"{server.url}/services/T0/B0/{TOKEN}", delivery=send)
        with pytest.raises(DeliveryFailed) as failed:
            hook.on_event(EVENT)
    assert len(server.requests) == 1 and waits.waits == []
    assert TOKEN not in str(failed.value) and "-> 404" in str(failed.value)


def test_delivery_gives_up_after_every_attempt() -> None:
    with http_recorder(codes=[502]) as server:
        send, waits = delivery(attempts=3)
        with pytest.raises(DeliveryFailed, match="after 3 tries"):
            WebhookListener(server.url, delivery=send).on_event(EVENT)
    assert len(server.requests) == 3 and len(waits.waits) == 2


def test_github_commit_status_for_the_revision(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    long = "failed: streaming/orders upgrade failed " + "x" * 200
    with http_recorder() as server:
        send, _ = delivery()
        status = GitHubCommitStatus("team/apps", token=Secret(TOKEN), delivery=send, api=server.url)
        status.on_revision(RevisionState(SHA, RevisionStateKind.PENDING, "applying: x", NOW))
        status.on_revision(RevisionState(SHA, RevisionStateKind.FAILURE, long, NOW))
        status.on_event(EVENT)  # not a revision: nothing posted
    pending, failure = server.requests
    assert pending.path == f"/repos/team/apps/statuses/{SHA}"
    assert pending.headers["authorization"] == f"Bearer {TOKEN}"
    assert pending.headers["accept"] == "application/vnd.github+json"
    assert json.loads(pending.body) == {
        "state": "pending",
        "description": "applying: x",
        "context": "gitflink",
    }
    body = json.loads(failure.body)
    assert body["state"] == "failure"
    assert len(body["description"]) == 140 and body["description"].startswith("failed: ")
    assert all(TOKEN not in r.body.decode() for r in server.requests)
    assert TOKEN not in caplog.text


def test_gitlab_commit_status_for_the_revision() -> None:
    with http_recorder() as server:
        send, _ = delivery()
        status = GitLabCommitStatus(
            "group/apps", token=Secret(TOKEN), delivery=send, api=server.url
        )
        status.on_revision(RevisionState(SHA, RevisionStateKind.SUCCESS, "applied: x", NOW))
        status.on_revision(RevisionState(SHA, RevisionStateKind.FAILURE, "failed: y", NOW))
    success, failure = server.requests
    assert success.path == f"/projects/group%2Fapps/statuses/{SHA}"
    assert success.headers["private-token"] == TOKEN
    assert json.loads(success.body) == {
        "state": "success",
        "description": "applied: x",
        "name": "gitflink",
    }
    assert json.loads(failure.body)["state"] == "failed"  # GitLab's word
    assert all(TOKEN not in r.body.decode() for r in server.requests)
