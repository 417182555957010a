"""Fingerprints of secret values: what status documents keep instead of a credential.

A fingerprint lets the planner tell "unchanged" from "changed" after a restart without the
secret ever being written down. PBKDF2 with a per-key salt makes guessing a weak secret from a
published status branch expensive, while staying deterministic so unchanged status stays
byte-identical (no spurious status commits).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from gitflink.model.secrets import hide_in_text, is_sensitive, secret_arg

PREFIX = "redacted:pbkdf2-sha256:"
_ITERATIONS = 20_000


@lru_cache(maxsize=4096)
def fingerprint(value: str, key: str) -> str:
    """The fingerprint of `value` stored under configuration key `key`."""
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), f"gitflink:{key}".encode(), _ITERATIONS)
    return PREFIX + digest.hex()[:32]


def spec_digest(spec: Any) -> str:
    """A short digest of a spec (a manifest's `spec` mapping), secrets fingerprinted first, so
    a status can name a spec without holding it (a rejected spec, docs/rollback.md)."""
    text = json.dumps(scrub(spec), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_fingerprint(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def unredact(stored: Any, desired: Any, key: str = "") -> Any:
    """`stored` with each fingerprint replaced by the desired value it was made from.

    Fingerprints whose desired value differs (or is gone) stay as they are, so the diff still
    sees a change, and renders only the fingerprint, never a secret.
    """
    if isinstance(stored, dict) and isinstance(desired, dict):
        return {k: unredact(v, desired.get(k), str(k)) for k, v in stored.items()}
    if isinstance(stored, list) and isinstance(desired, list) and len(stored) == len(desired):
        return [unredact(s, d, key) for s, d in zip(stored, desired, strict=True)]
    if is_fingerprint(stored) and isinstance(desired, str) and fingerprint(desired, key) == stored:
        return desired
    if isinstance(stored, str) and PREFIX in stored and isinstance(desired, str):
        # A secret inside a text (a URL's userinfo, a `-D...password=` option) was replaced by
        # its fingerprint in place: equal when the desired text scrubs to the same.
        return desired if scrub(desired, key) == stored else stored
    return stored


def scrub(value: Any, key: str = "") -> Any:
    """`value` (a status document) with every secret replaced by its fingerprint: values of
    sensitive keys, `{name: <sensitive>, value: ...}` pairs (container env), secrets on a
    command line (`--db-password x`), and secrets inside any other text (a URL's userinfo, a
    `-Dx.password=` option: fingerprinted in place). Each fingerprint is salted with the key it
    sits under, which `unredact` mirrors."""
    if isinstance(value, dict):
        named = isinstance(value.get("name"), str) and is_sensitive(value["name"])
        return {
            k: _hide(item, str(k))
            if (is_sensitive(str(k)) or (named and k == "value"))
            else scrub(item, str(k))
            for k, item in value.items()
        }
    if isinstance(value, list):
        return [
            _hide(item, key) if secret_arg(value, i) else scrub(item, key)
            for i, item in enumerate(value)
        ]
    if isinstance(value, str) and PREFIX not in value:
        return hide_in_text(value, lambda secret: fingerprint(secret, key))
    return value


def _hide(value: Any, key: str) -> Any:
    """Everything under a secret's key is secret, at any depth."""
    if isinstance(value, dict):
        return {k: _hide(item, str(k)) for k, item in value.items()}
    if isinstance(value, list):
        return [_hide(item, key) for item in value]
    if isinstance(value, str) and not is_fingerprint(value):
        return fingerprint(value, key)
    return value
