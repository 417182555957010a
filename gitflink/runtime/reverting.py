"""After a pass: a revert branch for each change rolled back in it (GITFLINK_REVERT_BRANCHES,
docs/rollback.md). Never breaks the pass: a branch that cannot be pushed is logged."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action, Plan
from gitflink.ports import Ports, RevertRequest, Revision
from gitflink.runtime.executor import Execution

log = logging.getLogger(__name__)


def publish(
    ports: Ports, plan: Plan, executions: Mapping[ResourceId, Execution], revision: Revision
) -> None:
    if ports.reverts is None:
        return
    for job in plan.jobs:
        record, done = job.rollback, executions.get(job.resource)
        if job.action is not Action.ROLLBACK or record is None or record.manual:
            continue  # `gitflink rollback` is a person's choice: Git is theirs to change
        if done is None or not done.ok or not job.file:
            continue
        if record.to_revision is None or record.git_revision is None:
            continue
        request = RevertRequest(
            job.resource,
            job.file,
            record.to_revision,
            record.git_revision,
            revision.sha,
            record.reason,
        )
        try:
            if ports.reverts.publish(request):
                log.info("%s: pushed branch %s", job.resource, request.branch)
        except GitflinkError as error:
            log.warning("%s: revert branch %s not pushed: %s", job.resource, request.branch, error)
