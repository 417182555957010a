"""The https artifact fetcher: the host checked once resolved, size and time bounded, no
redirects, each jar kept once under its digest; against a fake transport and a real server."""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gitflink.adapters.artifact_fetch import HttpArtifactFetcher, IpAddress
from gitflink.core.artifacts import restricted_address
from gitflink.model.artifacts import ArtifactPolicy
from gitflink.model.errors import ArtifactError, ArtifactRefused, Next

JAR = b"PK\x03\x04" + b"x" * 1000
URI = "https://repo.example.com/jobs/job.jar"


def public(host: str, port: int) -> list[IpAddress]:
    return [ipaddress.ip_address("93.184.216.34")]


def serving(body: bytes = JAR, status: int = 200, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(status, content=body, headers=headers or {})

    return httpx.MockTransport(handler), seen


def fetcher(
    tmp_path: Path, transport: httpx.BaseTransport, **options: object
) -> HttpArtifactFetcher:
    return HttpArtifactFetcher(
        tmp_path,
        check_address=restricted_address,
        resolver=public,
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


def test_a_jar_is_downloaded_and_kept_once_under_its_digest(tmp_path: Path) -> None:
    transport, seen = serving()
    source = fetcher(tmp_path, transport)
    first = source.fetch(URI)
    assert first.read_bytes() == JAR
    assert first.name == f"{hashlib.sha256(JAR).hexdigest()}.jar"
    assert source.fetch(URI.replace("job.jar", "same.jar")) == first
    assert len(seen) == 2 and not list(first.parent.glob("*.part"))


@pytest.mark.parametrize(
    ("address", "words"),
    [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("10.1.2.3", "private")],
)
def test_a_host_resolving_to_a_restricted_address_is_never_contacted(
    tmp_path: Path, address: str, words: str
) -> None:
    transport, seen = serving()
    source = HttpArtifactFetcher(
        tmp_path,
        check_address=restricted_address,
        resolver=lambda host, port: [ipaddress.ip_address(address)],
        transport=transport,
    )
    with pytest.raises(ArtifactRefused, match=words) as refused:
        source.fetch(URI)
    assert refused.value.next is Next.STALL
    assert seen == []


def test_an_oversized_jar_is_refused_by_its_header_or_while_streaming(tmp_path: Path) -> None:
    transport, _ = serving(headers={"content-length": "999999"})
    with pytest.raises(ArtifactRefused, match="larger than 100 bytes"):
        fetcher(tmp_path, transport, max_bytes=100).fetch(URI)

    def chunked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(JAR))  # no content-length

    with pytest.raises(ArtifactRefused, match="larger than"):
        fetcher(tmp_path, httpx.MockTransport(chunked), max_bytes=100).fetch(URI)
    assert list((tmp_path / "artifacts").iterdir()) == []


def test_redirects_are_refused_and_errors_wait(tmp_path: Path) -> None:
    transport, _ = serving(b"", 302, {"location": "https://169.254.169.254/"})
    with pytest.raises(ArtifactRefused, match="redirects"):
        fetcher(tmp_path, transport).fetch(URI)
    missing, _ = serving(b"", 404)
    with pytest.raises(ArtifactError, match="HTTP 404") as failed:
        fetcher(tmp_path, missing).fetch(URI)
    assert failed.value.next is Next.WAIT

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ArtifactError, match="ReadTimeout"):
        fetcher(tmp_path, httpx.MockTransport(slow)).fetch(URI)


def test_a_scheme_the_policy_does_not_allow_is_refused(tmp_path: Path) -> None:
    transport, seen = serving()
    with pytest.raises(ArtifactRefused, match="not allowed"):
        fetcher(tmp_path, transport).fetch("http://repo.example.com/job.jar")
    assert seen == []


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(JAR)))
            self.end_headers()
            self.wfile.write(JAR)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/job.jar"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_against_a_real_server_loopback_is_refused_until_the_agent_allows_it(
    tmp_path: Path, server: str
) -> None:
    strict = HttpArtifactFetcher(
        tmp_path, check_address=restricted_address, policy=ArtifactPolicy(frozenset({"http"}))
    )
    with pytest.raises(ArtifactRefused, match="loopback"):
        strict.fetch(server)
    allowed = ArtifactPolicy(frozenset({"http"}), restricted_hosts=False)
    fetched = HttpArtifactFetcher(tmp_path, check_address=restricted_address, policy=allowed)
    assert fetched.fetch(server).read_bytes() == JAR
