"""`gitflink history RESOURCE [-o table|json|yaml]`: every savepoint and checkpoint a resource
took or was started from, newest first, with the Git revision whose spec ran and what it was
for (its lineage), from the same status store as `gitflink status`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from gitflink.cli import options, output
from gitflink.cli.status import select, store_for
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.status import LineageEntry, ResourceStatus

EXIT_OK, EXIT_MISSING = 0, 1
COLUMNS = ["revision", "time", "kind", "path", "use"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="list the savepoints and checkpoints a resource took or restored from (lineage)",
        description="Newest first: the Git revision whose spec was running (or that was "
        "started from it), when, savepoint or checkpoint, the path, and what it was for "
        "(periodic, manual, snapshot NAME, upgrade, suspend, delete, restored...). RESOURCE is "
        "a name or NAMESPACE/NAME; the status store options are those of `gitflink status`.",
    )
    parser.add_argument("resource", metavar="RESOURCE", help="the resource's name")
    options.add_repo(parser, required=False, help="read the status branch of this repository")
    options.add_status_branch(parser)
    options.add_status_backend(parser)
    options.add_cache_dir(parser)
    options.add_data_dir(parser, "read the status files of this data dir")
    options.add_output(parser, ("table",))
    parser.set_defaults(handler=run)


def entries(status: ResourceStatus) -> list[LineageEntry]:
    """The lineage, newest first; savepoints a history entry names that predate the lineage
    (statuses written before it existed) are listed with the change that took them."""
    lineage = list(status.lineage)
    known = {entry.path for entry in lineage}
    for change in status.history:
        if change.savepoint and change.savepoint not in known:
            lineage.append(
                LineageEntry(
                    revision=change.revision,
                    at=change.applied_at,
                    path=change.savepoint,
                    use=change.action,
                )
            )
            known.add(change.savepoint)
    return sorted(lineage, key=_when, reverse=True)


def _when(entry: LineageEntry) -> float:
    return entry.at.timestamp() if entry.at is not None else 0.0


def rows(found: list[LineageEntry]) -> list[dict[str, str]]:
    return [
        {
            "revision": (entry.revision or "-")[:7],
            "time": _time(entry.at),
            "kind": entry.kind.value,
            "path": entry.path,
            "use": entry.use,
        }
        for entry in found
    ]


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at is not None else "-"


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    try:
        store, where = store_for(settings)
        statuses = store.load_all()
    except LookupError as nothing:
        output.error("history", nothing)
        return EXIT_MISSING
    except GitflinkError as error:
        output.error("history", error)
        return EXIT_MISSING
    picked, missing = select(statuses, [args.resource])
    if missing:
        output.error("history", f'resource "{args.resource}" not found in {where}')
        return EXIT_MISSING
    found: dict[ResourceId, list[LineageEntry]] = {
        rid: entries(status) for rid, status in sorted(picked.items())
    }
    if args.output == "table":
        for rid, lineage in found.items():
            if len(found) > 1:
                sys.stdout.write(f"{rid}\n")
            if lineage:
                sys.stdout.write(output.table(rows(lineage), COLUMNS))
            else:
                print(f"No savepoints or checkpoints recorded for {rid.short}.", file=sys.stderr)
        return EXIT_OK
    documents = {
        str(rid): [entry.model_dump(mode="json", by_alias=True) for entry in lineage]
        for rid, lineage in found.items()
    }
    output.write_document(documents, args.output)
    return EXIT_OK
