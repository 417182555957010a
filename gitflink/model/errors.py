"""The error tree. Every error says what happens next: the pass waits and retries, or stalls
until a human acts. Parse problems are not errors: they are values (model.problems)."""

from __future__ import annotations

from enum import StrEnum


class Next(StrEnum):
    WAIT = "waiting"  # transient: retry with capped, jittered backoff
    STALL = "stalled"  # a human must act


class GitflinkError(Exception):
    next: Next = Next.WAIT


class SourceError(GitflinkError):
    """Git could not be read: remote down, branch gone, signature refused."""


class SignatureError(SourceError):
    next = Next.STALL


class PathNotFound(SourceError):
    """A manifest path (--path) matches no manifests at the revision: most likely a typo. The
    pass stops before planning, so nothing is deleted on its account."""

    next = Next.STALL


class NotLeader(Exception):
    """This agent cannot prove it holds the leader lease: nothing may be written. Deliberately
    not a GitflinkError: it aborts the whole pass (no resource records it as a failure), and
    the new leader carries on from what is observed."""


class ClusterError(GitflinkError):
    """The runtime could not start, find or stop a Flink cluster."""


class ArtifactError(GitflinkError):
    """A job artifact (jar) could not be fetched: the network failed, or it was too large."""


class ArtifactRefused(ArtifactError):
    """The artifact policy refuses this URI or the address its host resolves to: the same spec
    would be refused every time, so a human must act."""

    next = Next.STALL


class FlinkApiError(GitflinkError):
    """A Flink REST call failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FlinkUnreachable(FlinkApiError):
    pass


class FlinkTimeout(FlinkApiError):
    pass


class NotReady(FlinkTimeout):
    """A change's new job did not run with every task within the resource's readiness timeout
    (docs/rollback.md): the pass plans the resource again at once, to roll it back (or report
    it blocked without rollback)."""


class FlinkHttpError(FlinkApiError):
    """Flink answered with an error status; `message` is Flink's own (last 'Caused by:')."""


class SavepointFailed(FlinkApiError):
    next = Next.STALL


class RestoreFailed(FlinkApiError):
    """Flink cannot restore the job from the savepoint or checkpoint it was given (state of an
    operator that no longer maps, a path that does not exist): the same spec would fail the same
    way every time, so it is not retried until the spec changes."""

    next = Next.STALL


class StatusWriteError(GitflinkError):
    """The status (the write-ahead log) could not be made durable: nothing destructive follows."""
