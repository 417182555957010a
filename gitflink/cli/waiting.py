"""`--wait SECONDS` of `gitflink rollback` and `gitflink savepoint` against an agent's store:
read the status again until it shows the request done (the agent's pass carried it out), or
the time is up. Reads only; what counts as done is each request's own rule."""

from __future__ import annotations

import time
from collections.abc import Callable

from gitflink.cli.status import RequestStore
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId, derived_id
from gitflink.model.rollback import Rollback
from gitflink.model.status import LifecycleState, ResourceStatus

POLL_SECONDS = 2.0
# (done well, what to say) once the status shows the request's end; None until then.
Done = Callable[[ResourceStatus | None], tuple[bool, str] | None]


def pause(seconds: float) -> None:
    """Between two reads (tests replace it with an agent's pass)."""
    time.sleep(seconds)


def wait_until(
    store: RequestStore, resource: ResourceId, done: Done, seconds: float
) -> tuple[bool, str] | None:
    """What `done` says once it says something, or None when `seconds` passed first."""
    deadline = time.monotonic() + seconds
    while True:
        refresh = getattr(store, "refresh", None)  # the status branch: fetch what was pushed
        if callable(refresh):
            refresh()
        said = done(store.load(resource))
        if said is not None or time.monotonic() >= deadline:
            return said
        pause(POLL_SECONDS)


def rolled_back(record: Rollback) -> Done:
    """Done when the pinned spec's revision runs, no change in flight; or the pin is gone."""

    def done(status: ResourceStatus | None) -> tuple[bool, str] | None:
        pin = status.reconciliation.rollback if status is not None else None
        if status is None or pin is None or pin.to_revision != record.to_revision:
            return False, "the request is gone (Git changed the resource's spec meanwhile?)"
        if (
            status.pending is None
            and status.applied_revision == record.to_revision
            and status.lifecycle_state is LifecycleState.ROLLED_BACK
        ):
            return True, f"rolled back: the spec of {(record.to_revision or '')[:7]} runs"
        return None

    return done


def savepoint_taken(resource: ResourceId, key: str) -> Done:
    """Done when a savepoint taken under `key` is recorded: its path."""

    def done(status: ResourceStatus | None) -> tuple[bool, str] | None:
        if status is None:
            return False, "the resource's status is gone"
        for snapshot in reversed(status.job_status.savepoint_history):
            if snapshot.trigger_id == derived_id(resource, snapshot.job_id, "savepoint", key):
                return True, snapshot.path
        return None

    return done


def waited(store: RequestStore, resource: ResourceId, done: Done, seconds: float) -> str:
    """What was done; raises GitflinkError when it went otherwise or took longer."""
    said = wait_until(store, resource, done, seconds)
    if said is None:
        raise GitflinkError(
            f"recorded, not done within {seconds:g}s: the agent carries it out on a later pass "
            f"(`gitflink status {resource.short}` shows it)"
        )
    ok, text = said
    if not ok:
        raise GitflinkError(text)
    return text
