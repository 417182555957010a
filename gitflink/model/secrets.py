"""Which values are secrets: Flink's sensitive-key rule, plus secrets on a job's command line.

Flink hides a configuration value when its key contains one of GlobalConfiguration's
SENSITIVE_KEYS (case-insensitive substring); gitflink uses the same list plus a few more. Plans
show such values as `******`; status documents keep only their fingerprints.
"""

from __future__ import annotations

import re
from typing import Any

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
