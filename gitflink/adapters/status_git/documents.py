"""Status documents as they sit on the status branch, and the commit messages that carry them.

A document is the `ResourceStatus` (schemas/status.json) as YAML; secret-looking configuration
values are replaced by a fingerprint so no credential is ever committed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from ruamel.yaml import YAML

from gitflink.model.fingerprints import scrub
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.status import ResourceStatus

ROOT = "status"


def path_of(resource: ResourceId) -> str:
    return f"{ROOT}/{resource.namespace}/{resource.kind.value.lower()}/{resource.name}.yaml"


def resource_of(path: str) -> ResourceId | None:
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != ROOT or not parts[3].endswith(".yaml"):
        return None
    kinds = {kind.value.lower(): kind for kind in Kind}
    kind = kinds.get(parts[2])
    return None if kind is None else ResourceId(kind, parts[1], parts[3].removesuffix(".yaml"))


def dump(status: ResourceStatus) -> bytes:
    """The status as YAML, every secret as its fingerprint (model.fingerprints.scrub)."""
    data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(scrub(data), stream)
    return stream.getvalue().encode()


def load(data: bytes) -> ResourceStatus:
    """The status in `data`. Secrets stay fingerprints; the planner compares them through
    model.fingerprints.unredact."""
    document = YAML(typ="safe", pure=True).load(data.decode()) or {}
    return ResourceStatus.model_validate(document)


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
