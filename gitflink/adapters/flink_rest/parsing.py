"""Reading Flink's REST answers: error text, async operation results, exception histories."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from gitflink.model.flink import AsyncOperation, JobExceptions, OperationState


def flink_message(text: str) -> str:
    """The useful line of a Flink error: the last 'Caused by:' line, else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by:").strip() for line in lines if "Caused by:" in line]
    if causes:
        return causes[-1]
    return lines[0] if lines else ""


def error_message(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors")
    except ValueError:
        errors = None
    if isinstance(errors, list) and errors:
        text = "\n".join(str(e) for e in errors)
        # 2.x puts a generic "Internal server error." first and the stack trace after it.
        return flink_message(text if "Caused by:" in text else str(errors[-1]))
    return response.text.strip()[:500] or response.reason_phrase


def has_exceptions(data: Mapping[str, Any]) -> bool:
    return bool(data.get("root-exception") or (data.get("exceptionHistory") or {}).get("entries"))


def operation(data: Mapping[str, Any]) -> AsyncOperation:
    """COMPLETED covers failures too: a failure-cause (not a location) means FAILED."""
    state = (data.get("status") or {}).get("id", "IN_PROGRESS")
    if state != "COMPLETED":
        return AsyncOperation(OperationState.IN_PROGRESS)
    operation = data.get("operation") or {}
    cause = operation.get("failure-cause")
    if cause:
        text = str(cause.get("stack-trace") or cause.get("class") or "unknown failure")
        return AsyncOperation(OperationState.FAILED, failure=flink_message(text))
    checkpoint_id = operation.get("checkpointId")
    return AsyncOperation(
        OperationState.COMPLETED,
        location=operation.get("location"),
        checkpoint_id=int(checkpoint_id) if checkpoint_id is not None else None,
    )


def exceptions(data: Mapping[str, Any]) -> JobExceptions:
    entries = (data.get("exceptionHistory") or {}).get("entries", [])
    history = tuple(
        flink_message(str(e.get("stacktrace") or e.get("exceptionName") or "")) for e in entries
    )
    # 2.3 dropped root-exception; the newest history entry is the root cause there.
    root = data.get("root-exception")
    root_cause = flink_message(str(root)) if root else (history[0] if history else None)
    return JobExceptions(root_cause=root_cause, history=history)
