"""Session-job jars over https: the host resolved and checked before any connection, the body
bounded in size and time, each download kept once under its SHA-256 in the cache."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from gitflink.model.artifacts import DEFAULT_POLICY, ArtifactPolicy
from gitflink.model.errors import ArtifactError, ArtifactRefused

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IpAddress], str | None]
Resolver = Callable[[str, int], Sequence[IpAddress]]
CHUNK = 1 << 16


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address `host` resolves to (A and AAAA)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in found]


class HttpArtifactFetcher:
    """`fetch(uri)` -> a local jar. `check_address` says why an address is restricted (the
    rule lives in core.artifacts; wiring hands it in); redirects are refused, since a redirect
    could lead to a host that was never checked."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        check_address: AddressCheck,
        policy: ArtifactPolicy = DEFAULT_POLICY,
        max_bytes: int = 256 * 1024 * 1024,
        timeout: float = 60.0,
        resolver: Resolver = resolve,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.root = cache_dir / "artifacts"
        self.check_address, self.policy = check_address, policy
        self.max_bytes, self.timeout = max_bytes, timeout
        self.resolver, self.transport = resolver, transport

    def fetch(self, uri: str) -> Path:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArtifactRefused(f"{uri}: only http(s) artifacts are downloaded")
        if parts.scheme not in self.policy.schemes:
            raise ArtifactRefused(f"{uri}: scheme {parts.scheme} is not allowed")
        if self.policy.restricted_hosts:
            self._check_host(uri, parts.hostname, parts.port or 443)
        self.root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.root, suffix=".part")
        try:
            digest = self._download(uri, handle)
            final = self.root / f"{digest}.jar"
            if final.exists():
                os.unlink(name)
            else:
                os.replace(name, final)
            return final
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def _check_host(self, uri: str, host: str, port: int) -> None:
        try:
            addresses = self.resolver(host, port)
        except (OSError, ValueError) as error:
            raise ArtifactError(f"{uri}: cannot resolve {host}: {error}") from error
        if not addresses:
            raise ArtifactError(f"{uri}: {host} resolves to no address")
        for address in addresses:
            reason = self.check_address(address)
            if reason:
                raise ArtifactRefused(f"{uri}: {host} resolves to a restricted {reason}")

    def _download(self, uri: str, handle: int) -> str:
        sha = hashlib.sha256()
        size = 0
        with (
            os.fdopen(handle, "wb") as out,
            httpx.Client(timeout=self.timeout, transport=self.transport) as client,
        ):
            try:
                with client.stream("GET", uri, follow_redirects=False) as response:
                    if response.is_redirect:
                        raise ArtifactRefused(f"{uri}: redirects are not followed")
                    if response.status_code != 200:
                        raise ArtifactError(f"{uri}: HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        raise ArtifactRefused(self._too_large(uri))
                    for chunk in response.iter_bytes(CHUNK):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise ArtifactRefused(self._too_large(uri))
                        sha.update(chunk)
                        out.write(chunk)
            except httpx.HTTPError as error:
                raise ArtifactError(f"{uri}: {type(error).__name__}: {error}") from error
        return sha.hexdigest()

    def _too_large(self, uri: str) -> str:
        return f"{uri}: larger than {self.max_bytes} bytes (GITFLINK_ARTIFACT_MAX_BYTES)"
