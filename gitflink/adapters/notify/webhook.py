"""The generic webhook listener: every notice as one JSON POST, signed with HMAC-SHA256 of the
body when a secret is set (`X-Gitflink-Signature-256: sha256=<hex>`, GitHub's scheme)."""

from __future__ import annotations

import hashlib
import hmac
import json

from gitflink.adapters.notify.delivery import Delivery
from gitflink.model.notifications import Notice, ResourceEvent, RevisionState, StatusChange
from gitflink.ports import ResourceListener
from gitflink.settings import Secret

SIGNATURE = "X-Gitflink-Signature-256"


class WebhookListener(ResourceListener):
    def __init__(self, url: str, *, secret: Secret | None = None, delivery: Delivery) -> None:
        self.url = url
        self._secret = secret
        self._delivery = delivery

    def on_status_change(self, change: StatusChange) -> None:
        self._send(change)

    def on_event(self, event: ResourceEvent) -> None:
        self._send(event)

    def on_revision(self, state: RevisionState) -> None:
        self._send(state)

    def _send(self, notice: Notice) -> None:
        payload = notice.as_json()
        # Signed over the exact bytes sent: serialised once here, posted as they are.
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "gitflink",
            "X-Gitflink-Event": payload["type"],
        }
        if self._secret is not None:
            digest = hmac.new(self._secret.reveal().encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE] = f"sha256={digest}"
        self._delivery.post_bytes(self.url, body, headers, cause="webhook")
