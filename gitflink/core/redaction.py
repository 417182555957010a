"""Hide secret values: Flink's sensitive-key rule, applied to anything a plan or diff shows.

Flink hides a configuration value when its key contains one of GlobalConfiguration's
SENSITIVE_KEYS (case-insensitive substring); gitflink uses the same list plus a few more.
"""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "******"

# Flink's GlobalConfiguration.SENSITIVE_KEYS (2.x), then gitflink's additions for common
# credential names Flink does not cover (s3.access-key, *.credentials, api-key).
FLINK_SENSITIVE_KEYS = (
    "password",
    "secret",
    "fs.azure.account.key",
    "apikey",
    "auth-params",
    "service-key",
    "token",
    "basic-auth",
    "jaas.config",
    "http-headers",
)
EXTRA_SENSITIVE_KEYS = ("api-key", "credential", "jaas", "private-key", "access-key")
SENSITIVE_KEYS = FLINK_SENSITIVE_KEYS + EXTRA_SENSITIVE_KEYS

# A key whose last segment is "key" (fs.s3a.access.key, ssl.key) is a credential too.
_KEY_SEGMENT = re.compile(r"(^|[._-])key$")


def is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(term in lowered for term in SENSITIVE_KEYS) or bool(_KEY_SEGMENT.search(lowered))


def redact(value: Any) -> Any:
    """A copy of `value` with every sensitive entry hidden, at any depth.

    Dict entries are hidden by key; `{name: X, value: Y}` pairs (container env) hide Y when X
    is sensitive, since the name is the key there.
    """
    if isinstance(value, dict):
        named_secret = isinstance(value.get("name"), str) and is_sensitive(value["name"])
        return {
            key: HIDDEN
            if (isinstance(key, str) and is_sensitive(key)) or (named_secret and key == "value")
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _mask_arg(item) if secret_arg(value, i) else redact(item)
            for i, item in enumerate(value)
        ]
    return value


def secret_arg(args: list[Any], index: int) -> bool:
    """Whether `args[index]` is a secret on a command line: the value after a sensitive flag
    (`--db-password hunter2`) or the value part of one (`--db-password=hunter2`)."""
    item = args[index]
    if not isinstance(item, str):
        return False
    if item.startswith("-") and "=" in item:
        return is_sensitive(item.split("=", 1)[0].lstrip("-"))
    previous = args[index - 1] if index > 0 else None
    return (
        isinstance(previous, str)
        and previous.startswith("-")
        and "=" not in previous
        and is_sensitive(previous.lstrip("-"))
    )


def _mask_arg(item: Any) -> Any:
    if isinstance(item, str) and item.startswith("-") and "=" in item:
        return item.split("=", 1)[0] + "=" + HIDDEN
    return HIDDEN


def redact_at(path: tuple[str | int, ...], value: Any, parent: Any = None) -> Any:
    """Hide `value` found at `path` if any key along the path is sensitive; else redact inside.

    `parent` is the mapping that holds the last path element, used for env-style pairs.
    """
    if any(isinstance(part, str) and is_sensitive(part) for part in path):
        return HIDDEN if value is not None else None
    if (
        path
        and path[-1] == "value"
        and isinstance(parent, dict)
        and isinstance(parent.get("name"), str)
        and is_sensitive(parent["name"])
    ):
        return HIDDEN if value is not None else None
    return redact(value)
