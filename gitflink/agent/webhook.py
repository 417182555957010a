"""HTTP for the agent: `POST /hooks/git` wakes the loop (GitHub, GitLab or generic secret),
`GET /healthz` (liveness), `GET /readyz` (readiness), `GET /metrics`. The payload is never read
for content: a verified request only wakes the loop, which fetches from Git itself, so a forged
body cannot inject a revision."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gitflink.agent.loop import Loop
from gitflink.settings import Secret

MAX_BODY = 1 << 20
log = logging.getLogger("gitflink.webhook")


def verified(headers: dict[str, str], body: bytes, secret: Secret | None) -> bool:
    """True when the request proves knowledge of `secret` in one of the supported forms."""
    if secret is None:
        return False
    key = secret.reveal().encode()
    github = headers.get("x-hub-signature-256")
    if github is not None:
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(github.encode(), expected.encode())
    token = headers.get("x-gitlab-token") or headers.get("x-gitflink-token")
    auth = headers.get("authorization", "")
    if token is None and auth.lower().startswith("bearer "):
        token = auth[7:]
    return token is not None and hmac.compare_digest(token.encode(), key)


def make_server(
    address: tuple[str, int],
    loop: Loop,
    secret: Secret | None,
    healthy: Callable[[], bool] | None = None,
) -> ThreadingHTTPServer:
    metrics = loop.metrics

    class Handler(BaseHTTPRequestHandler):
        server_version = "gitflink"

        def _reply(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.path.split("?")[0] != "/hooks/git":
                self._reply(404, b"not found\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                metrics.webhooks.labels(outcome="too_large").inc()
                self._reply(413, b"payload too large\n")
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not verified(headers, body, secret):
                metrics.webhooks.labels(outcome="unauthorized").inc()
                self._reply(401, b"unauthorized\n")
                return
            metrics.webhooks.labels(outcome="accepted").inc()
            loop.wake("webhook")
            self._reply(202, b"accepted\n")

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/healthz":
                ok = loop.running if healthy is None else healthy()
                self._reply(200 if ok else 503, b"ok\n" if ok else b"not running\n")
            elif path == "/readyz":
                reason = loop.not_ready()
                body = b"ok\n" if reason is None else f"not ready:\n{reason}\n".encode()
                self._reply(200 if reason is None else 503, body)
            elif path == "/metrics":
                self._reply(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b"not found\n")

        def log_message(self, format: str, *args: object) -> None:
            # Request lines only (no headers): signatures and tokens never reach the log.
            log.debug("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer(address, Handler)


def serve_in_background(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="gitflink-http", daemon=True)
    thread.start()
    return thread
