"""The webhook against hostile clients: a bad Content-Length is refused before the body is read,
an unauthenticated request never gets its body read, and slow clients are cut off."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from test_webhook import BODY, SECRET, github

from gitflink.agent.loop import Loop
from gitflink.agent.webhook import make_server, serve_in_background
from gitflink.settings import Secret


class Server:
    def __init__(self) -> None:
        self.loop = Loop(lambda: None, interval=3600)
        self.http = make_server(
            ("127.0.0.1", 0), self.loop, Secret(SECRET), header_timeout=1.0, body_timeout=1.0
        )
        self.port = self.http.server_port
        serve_in_background(self.http)

    def send(self, raw: bytes, *, wait: float = 3.0) -> tuple[bytes, float]:
        """Send `raw` and keep the connection open; what comes back, and how long it took."""
        with socket.create_connection(("127.0.0.1", self.port)) as conn:
            conn.settimeout(wait)
            started = time.monotonic()
            conn.sendall(raw)
            return _read_all(conn), time.monotonic() - started

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def request(headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = ["POST /hooks/git HTTP/1.1", "Host: agent", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("1e3", b"400"), ("1073741824", b"413")],
)
def test_bad_or_huge_content_length_is_refused_before_the_body_is_sent(
    server: Server, length: str, status: bytes
) -> None:
    # Only the headers are sent: an answer proves the server did not wait for a body.
    reply, took = server.send(request({"Content-Length": length, **github(BODY)}))
    assert reply.startswith(b"HTTP/1.0 " + status), reply
    assert took < 0.9


def test_a_post_without_content_length_is_411(server: Server) -> None:
    reply, _ = server.send(request({"X-Gitlab-Token": SECRET}))
    assert reply.startswith(b"HTTP/1.0 411")


def test_an_unauthenticated_request_is_refused_without_reading_its_body(server: Server) -> None:
    reply, took = server.send(request({"Content-Length": str(1 << 20)}))
    assert reply.startswith(b"HTTP/1.0 401") and took < 0.9
    reply, took = server.send(request({"Content-Length": "500", "X-Gitlab-Token": "wrong"}))
    assert reply.startswith(b"HTTP/1.0 401") and took < 0.9


def test_a_token_request_is_accepted_without_its_body(server: Server) -> None:
    reply, _ = server.send(request({"Content-Length": "5", "X-Gitflink-Token": SECRET}, b"{}..."))
    assert reply.startswith(b"HTTP/1.0 202")


def test_a_client_sending_headers_slowly_is_cut_off(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.settimeout(5)
        started = time.monotonic()
        closed_after = None
        for byte in b"POST /hooks/git HTTP/1.1\r\nHost: agent\r\nX-Padding: " + b"x" * 100:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3:
                break
        if closed_after is None:
            assert _read_all(conn) == b""  # the server closed its end
            closed_after = time.monotonic() - started
    assert closed_after < 3.5


def test_a_body_that_never_arrives_is_cut_off_with_408(server: Server) -> None:
    reply, took = server.send(request({"Content-Length": "100", **github(BODY)}, b"{"))
    assert reply.startswith(b"HTTP/1.0 408")
    assert 0.9 < took < 2.5
    assert server.loop.passes == 0


def test_many_idle_connections_do_not_lock_out_a_real_hook(server: Server) -> None:
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
    try:
        done = threading.Event()
        replies: list[bytes] = []

        def hook() -> None:
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline and not replies:
                reply, _ = server.send(request({"Content-Length": "0", "X-Gitlab-Token": SECRET}))
                if reply:
                    replies.append(reply)
                time.sleep(0.1)
            done.set()

        threading.Thread(target=hook, daemon=True).start()
        done.wait(6)
        assert replies and replies[0].startswith(b"HTTP/1.0 202")
    finally:
        for conn in idle:
            conn.close()
