"""Hide secret values in anything a plan or diff shows, by the rule in model.secrets."""

from __future__ import annotations

from typing import Any

from gitflink.model.secrets import hide_in_text, is_sensitive, secret_arg

__all__ = ["HIDDEN", "is_sensitive", "redact", "redact_at", "secret_arg"]

HIDDEN = "******"


def redact(value: Any) -> Any:
    """A copy of `value` with every sensitive entry hidden, at any depth.

    Dict entries are hidden by key; `{name: X, value: Y}` pairs (container env) hide Y when X
    is sensitive, since the name is the key there; in any other text, the secrets inside it
    (model.secrets.hide_in_text).
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
    if isinstance(value, str):
        return hide_in_text(value, _hidden)  # `SASL_SSL://user:pw@host`, `-Dx.password=pw`
    return value


def _hidden(_: str) -> str:
    return HIDDEN


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
