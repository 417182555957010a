"""Which values are secrets: Flink's sensitive-key rule, secrets on a job's command line, and
secrets inside any text value (URL userinfo, sensitive `-D` options and URL parameters).

Flink hides a configuration value when its key contains one of GlobalConfiguration's
SENSITIVE_KEYS (case-insensitive substring); gitflink uses the same list plus a few more. Plans
show such values as `******`; status documents keep only their fingerprints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
EXTRA_SENSITIVE_KEYS = ("api-key", "credential", "jaas", "private-key", "access-key", "passwd")
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


# Secrets inside a text value, whatever its key: each pattern's `secret` group is hidden.
# `SASL_SSL://user:pw@host`, `https://user:token@git.example.com`, `jdbc:mysql://u:p@h/db`:
# the whole userinfo (a lone user name may be a token).
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<secret>[^/?#\s'\"]+)@")
# `jdbc:oracle:thin:scott/tiger@host:1521/orcl`
_ORACLE = re.compile(r"jdbc:oracle:[a-z]+:(?P<secret>[^/@\s'\"]*/[^@\s'\"]*)@")
# `-Dfoo.password=x`, `-DdbPassword="a b"` in JVM options and arguments; `?password=x`,
# `;password=x` (SQL Server) and `&token=x` in URLs.
_OPTION = re.compile(
    r"(?:(?<![\w-])-D|[?&;])(?P<name>[A-Za-z0-9_.\-]+)="
    r"(?P<secret>\"[^\"]*\"|'[^']*'|[^\s&;]*)"
)


def hide_in_text(text: str, hide: Callable[[str], str]) -> str:
    """`text` with each secret inside it replaced by `hide(secret)`; unchanged if none."""
    if "@" not in text and "=" not in text:
        return text  # the common case, checked first: most values hold neither

    def replace(match: re.Match[str]) -> str:
        start, end = match.span("secret")
        if start == end:
            return match.group(0)
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + hide(match.group("secret")) + whole[end - offset :]

    def replace_option(match: re.Match[str]) -> str:
        return replace(match) if is_sensitive(match.group("name")) else match.group(0)

    text = _USERINFO.sub(replace, text)
    text = _ORACLE.sub(replace, text)
    return _OPTION.sub(replace_option, text)
