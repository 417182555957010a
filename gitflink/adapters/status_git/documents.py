"""Status documents as they sit on the status branch, and the commit messages that carry them.

A document is the `ResourceStatus` (schemas/status.json) as YAML; secret-looking configuration
values are replaced by a fingerprint so no credential is ever committed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from gitflink.model.fingerprints import fingerprint, is_fingerprint
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import ResourceStatus

ROOT = "status"
# A fallback when the composition root passes no rule (it passes core.redaction.is_sensitive).
_FALLBACK_TERMS = ("password", "secret", "token", "key", "jaas", "credential", "auth")


def fallback_is_sensitive(key: str) -> bool:
    return any(term in key.lower() for term in _FALLBACK_TERMS)


def path_of(resource: ResourceId) -> str:
    return f"{ROOT}/{resource.namespace}/{resource.kind.value.lower()}/{resource.name}.yaml"


def resource_of(path: str) -> ResourceId | None:
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != ROOT or not parts[3].endswith(".yaml"):
        return None
    kinds = {kind.value.lower(): kind for kind in Kind}
    kind = kinds.get(parts[2])
    return None if kind is None else ResourceId(kind, parts[1], parts[3].removesuffix(".yaml"))


def _scrub(value: Any, is_sensitive: Callable[[str], bool], vault: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and isinstance(item, str) and is_sensitive(key):
                digest = fingerprint(item, key)
                vault[digest] = item
                out[key] = digest
            else:
                out[key] = _scrub(item, is_sensitive, vault)
        return out
    if isinstance(value, list):
        return [_scrub(item, is_sensitive, vault) for item in value]
    return value


def _restore(value: Any, vault: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _restore(item, vault) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, vault) for item in value]
    if isinstance(value, str) and is_fingerprint(value):
        return vault.get(value, value)
    return value


def dump(
    status: ResourceStatus, is_sensitive: Callable[[str], bool], vault: dict[str, str]
) -> bytes:
    data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(_scrub(data, is_sensitive, vault), stream)
    return stream.getvalue().encode()


def load(data: bytes, vault: dict[str, str]) -> ResourceStatus:
    """The status in `data`; fingerprints this process has seen become their values again, so
    the spec recorded as applied compares equal to the desired one."""
    document = YAML(typ="safe", pure=True).load(data.decode()) or {}
    return ResourceStatus.model_validate(_restore(document, vault))


@dataclass(frozen=True, slots=True)
class Change:
    """What one resource's saves in a batch amount to, for the commit message."""

    resource: ResourceId
    action: str
    revision: str | None
    savepoint: str | None
    message: str
    applied: bool  # an applied revision changed: outranks intermediate saves in the subject


def describe(
    resource: ResourceId, before: ResourceStatus | None, after: ResourceStatus | None, message: str
) -> Change:
    if after is None:
        return Change(resource, "delete", None, None, message, applied=True)
    applied = before is None or before.applied_revision != after.applied_revision
    if applied and after.history:
        action = after.history[0].action
    elif after.pending is not None:
        action = after.pending.action
    elif after.error:
        action = "error"
    else:
        action = after.lifecycle_state.value.lower()
    revision = (
        (after.pending.revision if after.pending else None)
        or after.applied_revision
        or after.observed_revision
    )
    job = after.job_status
    savepoint = job.upgrade_savepoint_path or (
        job.last_savepoint.path if job.last_savepoint else None
    )
    return Change(
        resource, action, revision, savepoint, message, applied=applied and bool(after.history)
    )


def commit_message(changes: Sequence[Change]) -> str:
    """`gitflink: <resource> <action> @ <short-sha>` plus a body and the Gitflink-* trailers."""
    revisions = list(dict.fromkeys(c.revision for c in changes if c.revision))
    savepoints = list(dict.fromkeys(c.savepoint for c in changes if c.savepoint))
    at = f" @ {revisions[0][:7]}" if revisions else ""
    subject = "gitflink: " + ", ".join(f"{c.resource.short} {c.action}" for c in changes) + at
    if len(subject) > 72:
        counts: dict[str, int] = {}
        for c in changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        summary = ", ".join(f"{action} {n}" for action, n in sorted(counts.items()))
        subject = f"gitflink: {len(changes)} resources ({summary}){at}"
    body = [f"{c.resource}: {c.action}. {c.message}".rstrip(". ") for c in changes]
    trailers = [f"Gitflink-Revision: {r}" for r in revisions]
    trailers += [f"Gitflink-Savepoint: {s}" for s in savepoints]
    return "\n".join([subject, "", *body, "", *trailers]) + "\n"
