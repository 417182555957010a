"""Which job artifacts (jar URIs) gitflink may fetch or upload, after the operator's artifact
rules: https only by default, a URI that parses and names its scheme, no restricted hosts.

Pure: the policy is an agent setting, never a resource's; resolving a host name is I/O and is
left to the fetching adapter, which calls `restricted_address` on what it resolved.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from gitflink.model.artifacts import DEFAULT_POLICY, LOCAL, ArtifactPolicy

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
__all__ = ["DEFAULT_POLICY", "ArtifactPolicy", "refusal", "restricted_address"]


def refusal(uri: str, policy: ArtifactPolicy = DEFAULT_POLICY) -> str | None:
    """Why `uri` may not be fetched under `policy`, None when it may (hosts not yet resolved)."""
    try:
        parts = urlsplit(uri.strip())
        parts.port  # noqa: B018 - reading it checks it: a non-numeric port raises
    except ValueError as error:
        return f"{uri!r} is not a valid URI: {error}"
    scheme = parts.scheme.lower()
    if not scheme or "://" not in uri:
        return f"{uri!r} names no scheme: write it as {policy.describe()} URI (like https://...)"
    if scheme == LOCAL:
        return None
    if scheme not in policy.schemes:
        return (
            f"scheme {scheme!r} is not allowed for artifacts (allowed: {policy.describe()}; "
            "the agent's GITFLINK_ARTIFACT_SCHEMES decides, never a resource)"
        )
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"{uri!r} names no host"
        if policy.restricted_hosts:
            try:
                literal = ipaddress.ip_address(parts.hostname)
            except ValueError:
                return None  # a name: checked once resolved, by whoever fetches it
            return restricted_address(literal)
    return None


def restricted_address(address: IpAddress) -> str | None:
    """Why an address may not be fetched from (loopback, link-local, private...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kinds = (
        ("loopback", address.is_loopback),
        ("link-local (the cloud metadata range)", address.is_link_local),
        ("private", address.is_private),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
    )
    for kind, matches in kinds:
        if matches:
            return f"address {address} is {kind}: artifacts are never fetched from it"
    return None
