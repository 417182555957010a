"""The `Source` condition: whether a resource's desired state could be read from Git. While it
cannot, nothing is planned, so what runs keeps running; the statuses say why."""

from __future__ import annotations

import logging

from gitflink.model.errors import GitflinkError, SourceError
from gitflink.model.ids import ResourceId
from gitflink.model.status import Condition, ConditionStatus, ResourceStatus
from gitflink.ports import Ports, Revision

log = logging.getLogger(__name__)
SOURCE = "Source"  # condition type: can the desired state be read from Git?
SOURCE_PREFIX = "source: "  # marks a status error that came from Git, cleared when Git recovers


def record(
    ports: Ports,
    statuses: dict[ResourceId, ResourceStatus],
    error: SourceError | None,
    revision: Revision | None = None,
) -> None:
    """The `Source` condition on every recorded resource: False with the reason while Git cannot
    be read (their deployments keep running as they are), True again once it can. Saved only
    when it changes, so a long outage or a quiet pass writes nothing. The status's `error`
    carries the Git error too, unless it already holds the resource's own."""
    if error is not None:
        value, reason, message = ConditionStatus.FALSE, error.next.value, str(error)
    else:
        assert revision is not None
        value, reason, message = ConditionStatus.TRUE, "fetched", f"read {revision.short}"
    now = ports.clock.now()
    for rid, status in sorted(statuses.items()):
        previous = next((c for c in status.conditions if c.type == SOURCE), None)
        if error is None and (previous is None or previous.status is ConditionStatus.TRUE):
            continue  # the common case: Git was fine and still is
        if previous is not None and (previous.status, previous.message) == (value, message):
            continue
        mine = status.error is None or status.error.startswith(SOURCE_PREFIX)
        if mine:
            status.error = None if error is None else f"{SOURCE_PREFIX}{message}"
        moved = previous is None or previous.status is not value
        condition = Condition(
            type=SOURCE,
            status=value,
            reason=reason,
            message=message,
            last_transition_time=now
            if moved or previous is None
            else previous.last_transition_time,
        )
        status.conditions = [c for c in status.conditions if c.type != SOURCE] + [condition]
        what = f"Git unreadable: {message}" if error is not None else "Git readable again"
        try:
            ports.status.save(rid, status, f"{rid.short}: {what}")
        except GitflinkError as failure:
            log.warning("%s: could not record the source state: %s", rid, failure)
            continue
        statuses[rid] = status
