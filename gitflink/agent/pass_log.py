"""One log line per resource a pass acted on or found broken: what was done, how it ended and
the error text, with the same facts as fields for `--log-format json`."""

from __future__ import annotations

import logging

from gitflink.runtime.reconciler import PassResult

log = logging.getLogger("gitflink.pass")


def log_pass(result: PassResult) -> None:
    revision = result.revision.short if result.revision else "-"
    if result.error:
        log.error("pass @ %s: %s", revision, result.error, extra={"revision": revision})
        return
    if not result.observed:
        log.debug("pass @ %s: Git unchanged and everything converged", revision)
        return
    for problem in result.problems:
        if not problem.is_error:
            continue
        fields = {
            "resource": str(problem.resource) if problem.resource else None,
            "action": "validate",
            "outcome": "invalid",
            "error": f"{problem}",
            "revision": revision,
        }
        log.warning("%s invalid: %s", problem.resource or problem.file, problem, extra=fields)
    for execution in result.executions:
        outcome = "ok" if execution.ok else str(execution.next or "failed")
        fields = {
            "resource": str(execution.resource),
            "action": execution.action.value,
            "outcome": outcome,
            "error": execution.error,
            "revision": revision,
        }
        level = logging.INFO if execution.ok else logging.WARNING
        if execution.ok and not execution.ran:
            level = logging.DEBUG
        log.log(level, "%s %s: %s", execution.resource, outcome, execution.summary, extra=fields)
    failed = sum(1 for e in result.executions if not e.ok)
    problems = sum(1 for p in result.problems if p.is_error)
    log.info(
        "pass @ %s: %d resources acted on, %d failed, %d problems",
        revision,
        len(result.executions),
        failed,
        problems,
        extra={"revision": revision},
    )
