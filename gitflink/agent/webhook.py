"""HTTP for the agent: `POST /hooks/git` wakes the loop (GitHub, GitLab or generic secret),
`GET /healthz` (liveness), `GET /readyz` (readiness), `GET /metrics`. The payload is never read
for content: a verified request only wakes the loop, which fetches from Git itself, so a forged
body cannot inject a revision. Hostile clients: a bad or missing Content-Length is refused
before the body is read, a token is checked before it, a GitHub signature is checked over at
most MAX_BODY bytes, and slow clients are cut off by header and body deadlines."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gitflink.agent.loop import Loop
from gitflink.settings import Secret

MAX_BODY = 1 << 20
HEADER_TIMEOUT = 10.0  # seconds for a client to send its request line and headers
BODY_TIMEOUT = 10.0  # seconds to send the body, once the headers are in
MAX_CONNECTIONS = 32  # handled at once; more are closed unanswered
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
    token = _token(headers)
    return token is not None and hmac.compare_digest(token.encode(), key)


def _token(headers: dict[str, str]) -> str | None:
    token = headers.get("x-gitlab-token") or headers.get("x-gitflink-token")
    auth = headers.get("authorization", "")
    if token is None and auth.lower().startswith("bearer "):
        token = auth[7:]
    return token


def body_length(value: str | None) -> tuple[int, int | None]:
    """(HTTP status to refuse with, or 0; the length) from a Content-Length header."""
    if value is None:
        return 411, None
    if not value.strip().isdigit():  # "-1", "abc", "1e9", "12, 12"
        return 400, None
    length = int(value)
    return (413, None) if length > MAX_BODY else (0, length)


class _Deadline:
    """Shuts the connection down when `seconds` pass, so a slow client (headers or body sent
    a byte at a time) cannot hold a thread for longer than that, whatever the socket timeout."""

    def __init__(self, connection: socket.socket, seconds: float) -> None:
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire, args=(connection,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, connection: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):
            # The blocked read ends (as if the client had closed); a reply can still be sent.
            connection.shutdown(socket.SHUT_RD)

    def cancel(self) -> None:
        self._timer.cancel()


def make_server(
    address: tuple[str, int],
    loop: Loop,
    secret: Secret | None,
    healthy: Callable[[], bool] | None = None,
    *,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
) -> ThreadingHTTPServer:
    metrics = loop.metrics
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    class Handler(BaseHTTPRequestHandler):
        server_version = "gitflink"
        timeout = max(header_timeout, body_timeout)  # per socket operation (socketserver)

        def setup(self) -> None:
            super().setup()
            self._deadline = _Deadline(self.connection, header_timeout)

        def handle(self) -> None:
            if not slots.acquire(blocking=False):
                metrics.webhooks.labels(outcome="busy").inc()
                return  # closed unanswered: the sender retries
            try:
                super().handle()
            finally:
                slots.release()

        def parse_request(self) -> bool:
            self._deadline.cancel()  # the headers are in
            return super().parse_request()

        def finish(self) -> None:
            self._deadline.cancel()
            with contextlib.suppress(OSError):  # a deadline may have shut the socket
                super().finish()

        def _reply(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may be gone
                self.end_headers()
                self.wfile.write(body)

        def _refuse(self, code: int, outcome: str, message: bytes) -> None:
            metrics.webhooks.labels(outcome=outcome).inc()
            self._reply(code, message)

        def do_POST(self) -> None:
            if self.path.split("?")[0] != "/hooks/git":
                self._reply(404, b"not found\n")
                return
            # Everything that can be refused from the headers is, before a byte of the body.
            refused, length = body_length(self.headers.get("Content-Length"))
            if refused == 411:
                self._refuse(411, "length_required", b"Content-Length required\n")
                return
            if refused == 400:
                self._refuse(400, "bad_length", b"invalid Content-Length\n")
                return
            if refused == 413 or length is None:
                self._refuse(413, "too_large", b"payload too large\n")
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            if "x-hub-signature-256" not in headers:
                # A token proves itself without the body, which is never read for content.
                if not verified(headers, b"", secret):
                    self._refuse(401, "unauthorized", b"unauthorized\n")
                    return
                self._accept()
                return
            body = self._read_body(length)
            if body is None:
                self._refuse(408, "timeout", b"request body timeout\n")
                return
            if not verified(headers, body, secret):
                self._refuse(401, "unauthorized", b"unauthorized\n")
                return
            self._accept()

        def _read_body(self, length: int) -> bytes | None:
            """The body (at most MAX_BODY, checked before), or None if it came too slowly."""
            deadline = _Deadline(self.connection, body_timeout)
            try:
                body = self.rfile.read(length)
            except OSError:
                body = b""
            finally:
                deadline.cancel()
            return None if deadline.expired or len(body) < length else body

        def _accept(self) -> None:
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
