"""A fault-injecting HTTP proxy on loopback, in front of the test bed's API server (HTTPS) or a
Flink JobManager's REST port (HTTP): per verb and path it answers 409/429 (Retry-After)/503, adds
latency, black-holes requests (never answered, never forwarded) or cuts watch streams, and logs
what it did."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

REASONS = {
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "upgrade",
}


@dataclass
class Fault:
    verb: str  # GET, POST, PUT, PATCH, DELETE, WATCH or * (WATCH is a GET with watch=true)
    path: str  # a regex searched in the path, e.g. r"/configmaps/"
    status: int | None = None  # answer this instead of forwarding
    retry_after: int | None = None  # seconds, sent as Retry-After with the status
    delay: float = 0.0  # seconds before forwarding (or answering)
    drop_after_events: int | None = None  # a watch: forward this many events, then cut it
    times: int | None = 1  # how many requests it applies to; None: all
    black_hole: bool = False  # hold the request unanswered until the proxy is cleared or stopped
    hits: int = field(default=0, init=False)

    def matches(self, verb: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.verb in {"*", verb} and re.search(self.path, path) is not None

    def describe(self) -> str:
        parts = ["black hole"] if self.black_hole else []
        if self.delay:
            parts.append(f"delay {self.delay}s")
        if self.status is not None:
            parts.append(
                f"answer {self.status}"
                + (f" Retry-After {self.retry_after}" if self.retry_after is not None else "")
            )
        if self.drop_after_events is not None:
            parts.append(f"drop watch after {self.drop_after_events} events")
        return ", ".join(parts) or "forward"


@dataclass(frozen=True)
class Entry:
    at: float
    verb: str
    path: str
    action: str  # "forward", or what a fault did
    status: int | None


class FaultProxy:
    """`upstream`: https (with `ca_file`) or plain http."""

    def __init__(self, upstream: str, ca_file: str | None = None) -> None:
        parts = urlsplit(upstream)
        self.tls = parts.scheme == "https"
        default_port = 443 if self.tls else 80
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or default_port
        self.context = ssl.create_default_context(cafile=ca_file) if self.tls else None
        self.released = threading.Event()  # set: black-holed requests are dropped
        self.faults: list[Fault] = []
        self.log: list[Entry] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="fault-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.released.set()  # requests held in a black hole are dropped, never forwarded
            self.released = threading.Event()

    def actions(self, verb: str | None = None, path: str = "") -> list[str]:
        """What happened to matching requests, in order: 'forward', 'answer 409', ..."""
        return [
            e.action
            for e in self.log
            if (verb is None or e.verb == verb) and re.search(path, e.path)
        ]

    def _take(self, verb: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(verb, path):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, verb: str, path: str, action: str, status: int | None) -> None:
        with self._lock:
            self.log.append(Entry(time.time(), verb, path, action, status))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    owner: FaultProxy

    def log_message(self, format: str, *args: object) -> None:  # the proxy keeps its own log
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        watch = (
            parse_qs(parts.query).get("watch", ["false"])[0].lower() in {"true", "1"}
            or "/watch/" in parts.path
        )
        verb = "WATCH" if self.command == "GET" and watch else self.command
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.owner._take(verb, parts.path)
        if fault is not None and fault.black_hole:
            self.owner._record(verb, parts.path, fault.describe(), None)
            self.owner.released.wait()
            self.close_connection = True
            return
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            self.owner._record(verb, parts.path, fault.describe(), fault.status)
            self._answer(fault)
            return
        owner = self.owner
        upstream: http.client.HTTPConnection = (
            http.client.HTTPSConnection(
                owner.upstream_host, owner.upstream_port, context=owner.context, timeout=600
            )
            if owner.tls
            else http.client.HTTPConnection(owner.upstream_host, owner.upstream_port, timeout=600)
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        action = fault.describe() if fault is not None else "forward"
        self.owner._record(verb, parts.path, action, response.status)
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        if watch and response.status == 200:
            self._stream(response, fault.drop_after_events if fault is not None else None)
        else:
            data = response.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        upstream.close()

    def _stream(self, response: http.client.HTTPResponse, drop_after: int | None) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        while True:
            if drop_after is not None and sent >= drop_after:
                self.close_connection = True  # no final chunk: the client sees a cut stream
                self.connection.shutdown(2)
                return
            line = response.readline()
            if not line:
                break
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
            sent += 1
        self.wfile.write(b"0\r\n\r\n")

    def _answer(self, fault: Fault) -> None:
        status = fault.status or 500
        reason = REASONS.get(status, "InternalError")
        details = {} if fault.retry_after is None else {"retryAfterSeconds": fault.retry_after}
        body = json.dumps({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"injected by the fault proxy: {reason}", "reason": reason, "code": status,
            "details": details,
        }).encode()  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if fault.retry_after is not None:
            self.send_header("Retry-After", str(fault.retry_after))
        self.end_headers()
        self.wfile.write(body)
