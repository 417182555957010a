"""Requests a person records in the status an agent writes (`gitflink rollback` and
`gitflink savepoint` against a status branch or custom resources): the agent carries them out
on its next pass, and a pass that read the status before the request arrived never overwrites
it.

A status store that finds the stored status changed by another writer since its own copy was
read (`base`) keeps what that writer requested: a manual rollback record (the pin,
`reconciliation.rollback` with `manual: true`) or a one-off savepoint
(`jobStatus.savepointRequest`) the agent has not seen yet."""

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
    kept = ours
    requested = theirs.reconciliation.rollback
    if (
        requested is not None
        and requested.manual
        and not _same(requested, base.reconciliation.rollback)
        and not _same(requested, ours.reconciliation.rollback)  # not new, or taken up
    ):
        kept = kept.model_copy(deep=True)
        kept.reconciliation.rollback = requested.model_copy(deep=True)
    savepoint = theirs.job_status.savepoint_request
    if savepoint is not None and savepoint not in (
        base.job_status.savepoint_request,
        ours.job_status.savepoint_request,
    ):
        kept = kept.model_copy(deep=True)
        kept.job_status.savepoint_request = savepoint
    return kept


def _same(one: Rollback, other: Rollback | None) -> bool:
    """Equal as stored: secrets compared through their fingerprints."""
    return other is not None and scrub(one.model_dump(mode="json")) == scrub(
        other.model_dump(mode="json")
    )
