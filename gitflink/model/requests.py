"""Requests a person records in the status an agent writes (`gitflink rollback` against a
status branch or custom resources): the agent carries them out on its next pass, and a pass
that read the status before the request arrived never overwrites it.

A status store that finds the stored status changed by another writer since its own copy was
read (`base`) keeps what that writer requested: a manual rollback record (the pin,
`reconciliation.rollback` with `manual: true`) the agent has not seen yet."""

from __future__ import annotations

from gitflink.model.fingerprints import scrub
from gitflink.model.rollback import Rollback
from gitflink.model.status import ResourceStatus


def keep_requests(
    base: ResourceStatus | None, theirs: ResourceStatus | None, ours: ResourceStatus
) -> ResourceStatus:
    """`ours` to be saved over `theirs` (stored by another writer meanwhile), with the requests
    `theirs` added since `base` (what `ours` was derived from) carried over."""
    if base is None or theirs is None:
        return ours
    requested = theirs.reconciliation.rollback
    if requested is None or not requested.manual:
        return ours
    if _same(requested, base.reconciliation.rollback) or _same(
        requested, ours.reconciliation.rollback
    ):
        return ours  # not new, or already taken up
    kept = ours.model_copy(deep=True)
    kept.reconciliation.rollback = requested.model_copy(deep=True)
    return kept


def _same(one: Rollback, other: Rollback | None) -> bool:
    """Equal as stored: secrets compared through their fingerprints."""
    return other is not None and scrub(one.model_dump(mode="json")) == scrub(
        other.model_dump(mode="json")
    )
