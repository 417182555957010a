"""Status documents as they sit on the status branch, and the commit messages that carry them.

A document is the `ResourceStatus` (schemas/status.json) as YAML; secret-looking configuration
values are replaced by a fingerprint so no credential is ever committed.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from gitflink.model import requests
from gitflink.model.errors import StatusWriteError
from gitflink.model.fingerprints import scrub
from gitflink.model.ids import Kind, ResourceId, is_valid
from gitflink.model.secrets import hide_in_text
from gitflink.model.status import ResourceStatus

ROOT = "status"


def path_of(resource: ResourceId) -> str:
    """Raises StatusWriteError for an id that fails validation: it never becomes a path."""
    if not is_valid(resource):
        raise StatusWriteError(f"{resource!r}: not a valid resource id; no status is stored")
    return f"{ROOT}/{resource.namespace}/{resource.kind.value.lower()}/{resource.name}.yaml"


def resource_of(path: str) -> ResourceId | None:
    """The resource whose document sits at `path`; None for any other path (a stray file)."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != ROOT or not parts[3].endswith(".yaml"):
        return None
    kinds = {kind.value.lower(): kind for kind in Kind}
    kind = kinds.get(parts[2])
    if kind is None:
        return None
    resource = ResourceId(kind, parts[1], parts[3].removesuffix(".yaml"))
    return resource if is_valid(resource) else None


def dump(status: ResourceStatus) -> bytes:
    """The status as YAML, every secret as its fingerprint (model.fingerprints.scrub)."""
    data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(scrub(data), stream)
    return stream.getvalue().encode()


class Unreadable(StatusWriteError):
    """A document that is not a status: broken YAML, not a mapping, or fields out of schema."""


def load(data: bytes) -> ResourceStatus:
    """The status in `data`. Secrets stay fingerprints; the planner compares them through
    model.fingerprints.unredact. Raises Unreadable with a one-line reason (never the content)."""
    try:
        document = YAML(typ="safe", pure=True).load(data.decode()) or {}
    except UnicodeDecodeError as error:
        raise Unreadable(f"not UTF-8 text (byte {error.start})") from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise Unreadable(f"{where}YAML syntax error: {error.problem or error.context}") from None
    except RecursionError:
        raise Unreadable("YAML nested too deeply") from None
    except (YAMLError, ValueError, TypeError) as error:  # a bad !!timestamp is a ValueError
        raise Unreadable(f"YAML error: {type(error).__name__}") from None
    if not isinstance(document, dict):
        raise Unreadable("not a YAML mapping")
    try:
        return ResourceStatus.model_validate(document)
    except RecursionError:
        raise Unreadable("nested too deeply") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "status"
        raise Unreadable(f"invalid status: {where}: {first['msg']}") from None


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
        return Change(resource, "deleted", None, None, message, applied=True)
    applied = before is None or before.applied_revision != after.applied_revision
    if applied and after.history:
        done = after.history[0].action
        action = _DONE.get(done, f"{done} done")
    elif after.pending is not None:
        action = _stage(after)
    elif after.error:
        ready = next((c for c in after.conditions if c.type == "Ready"), None)
        action = {"invalid": "invalid", "stalled": "stalled"}.get(
            ready.reason if ready else "", "failed"
        )
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


# The subject says the outcome: what happened, not only what was tried.
_DONE = {
    "deploy": "deployed",
    "upgrade": "upgraded",
    "scale": "scaled",
    "redeploy": "redeployed",
    "suspend": "suspended",
    "resume": "resumed",
    "restart": "restarted",
    "delete": "deleted",
    "savepoint": "savepoint taken",
    "checkpoint": "checkpoint taken",
    "none": "applied",
}


def _stage(status: ResourceStatus) -> str:
    """Which write-ahead point a save in the middle of a change is."""
    pending = status.pending
    assert pending is not None
    if pending.submitted_job_id is not None:
        return f"{pending.action}: job submitted"
    if pending.stop_snapshot is not None:
        return f"{pending.action}: {pending.stop_snapshot.kind.value} recorded"
    return f"{pending.action} started"


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
    # A message may quote an error that quotes a value (a JDBC URL with its password).
    body = [
        hide_in_text(f"{c.resource}: {c.action}. {c.message}".rstrip(". "), _hidden)
        for c in changes
    ]
    trailers = [f"Gitflink-Revision: {r}" for r in revisions]
    trailers += [f"Gitflink-Savepoint: {s}" for s in savepoints]
    return "\n".join([subject, "", *body, "", *trailers]) + "\n"


def _hidden(_: str) -> str:
    return "******"


def keep_requests(
    before: Mapping[str, bytes], now: Mapping[str, bytes], pending: dict[str, bytes | None]
) -> dict[str, bytes | None]:
    """`pending` (our saves, derived from the documents `before`) to be written over `now`
    (the tip another writer pushed): a rollback that writer requested in a document we also
    saved is kept in ours (model.requests)."""
    kept = dict(pending)
    for path, data in pending.items():
        theirs = now.get(path)
        if data is None or theirs is None or theirs == before.get(path):
            continue
        with contextlib.suppress(Unreadable):
            base = load(before[path]) if path in before else None
            kept[path] = dump(requests.keep_requests(base, load(theirs), load(data)))
    return kept
