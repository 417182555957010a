"""`gitflink savepoint RESOURCE`: a one-off savepoint of the resource's running job, recorded in
its status (lineage and savepoint history) like every other status change.

With the data dir's status files it is taken now, here. With an agent's store (the status
branch with --repo/--status-repo, custom resources with --status cr) the agent runs Flink and
writes that status, so the savepoint is asked for there (`jobStatus.savepointRequest`, one
commit or one status write with optimistic locking) and the agent takes it on its next pass."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from gitflink import wiring
from gitflink.cli import options, output, waiting
from gitflink.cli.status import RequestStore, select, store_for
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus
from gitflink.runtime import progress as progress_output
from gitflink.runtime.oneoff import one_off_key, request_savepoint, savepoint_now

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "savepoint",
        help="take a one-off savepoint of a running job now, recorded in its status",
        description="Triggers a savepoint of the job RESOURCE runs (a FlinkDeployment "
        "application or a FlinkSessionJob; a name or NAMESPACE/NAME), waits for it, and "
        "records it with the Git revision whose spec runs (see `gitflink history`). The job "
        "keeps running. With an agent's status branch (--repo/--status-repo) or custom "
        "resources (--status cr) it is asked for there and the agent takes it on its next "
        "pass. Status store options as for `gitflink status`; the runtime as for `gitflink "
        "sync`.",
    )
    parser.add_argument("resource", metavar="RESOURCE", help="the resource's name")
    options.add_repo(parser, required=False, help="record in the status branch of this repo")
    options.add_status_branch(parser)
    options.add_cache_dir(parser)
    options.add_data_dir(parser, "clusters and status files")
    options.add_runtime(parser)
    options.add_output(parser, ("text",))
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="with an agent's store: wait until the agent took it, print its path (exit 1 "
        "after SECONDS)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    try:
        store, where = store_for(settings)
        picked, missing = select(store.load_all(), [args.resource])
        jobs = {rid: s for rid, s in picked.items() if s.job_status.job_id}
        if missing or not jobs:
            output.error("savepoint", f'no job of "{args.resource}" recorded in {where}')
            return EXIT_FAILED
        if len(jobs) > 1:
            names = ", ".join(str(rid) for rid in jobs)
            output.error("savepoint", f'"{args.resource}" names {names}: give NAMESPACE/NAME')
            return EXIT_FAILED
        [(resource, status)] = jobs.items()
        if isinstance(store, RequestStore):
            return _request(args, store, where, resource)
        ports = wiring.ports(settings, status=store)
        taken = savepoint_now(ports, resource, status, progress_output.LineProgress(sys.stderr))
    except LookupError as nothing:
        output.error("savepoint", nothing)
        return EXIT_FAILED
    except GitflinkError as error:
        output.error("savepoint", error)
        return EXIT_FAILED
    document = {
        "resource": str(resource),
        "path": taken.path,
        "revision": taken.revision,
        "jobId": taken.job_id,
        "triggerId": taken.trigger_id,
    }
    if args.output == "text":
        print(taken.path)
    else:
        output.write_document(document, args.output)
    return EXIT_OK


def _request(
    args: argparse.Namespace, store: RequestStore, where: str, resource: ResourceId
) -> int:
    """Ask the agent that writes `store` for the savepoint; its next pass takes it."""
    key = one_off_key(datetime.now(UTC))
    asked: list[str] = []

    def change(current: ResourceStatus | None) -> ResourceStatus:
        found = request_savepoint(resource, key)(current)
        asked.append(found.job_status.savepoint_request or key)
        return found

    store.update(resource, change, f"{resource.short} one-off savepoint requested")
    document = {"resource": str(resource), "requested": asked[-1]}
    if args.wait is not None:
        taken = waiting.savepoint_taken(resource, asked[-1])
        document["path"] = waiting.waited(store, resource, taken, args.wait)
    if args.output != "text":
        output.write_document(document, args.output)
    elif args.wait is not None:
        print(document["path"])
    else:
        print(
            f"{resource.short}: one-off savepoint requested in {where}; the agent takes it on "
            "its next pass (`gitflink history` lists it)"
        )
    return EXIT_OK
