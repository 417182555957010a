"""`gitflink status [NAME...] [-o table|wide|json|yaml]`: each resource's health and last change,
from the status branch (`--repo`) or the embedded runtime's status files (the data dir)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from gitflink import wiring
from gitflink.cli import options, output
from gitflink.core import reporting
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.status import Condition, ConditionStatus, ResourceStatus
from gitflink.model.status_load import StatusLoad, corrupt_of
from gitflink.ports import StatusStore
from gitflink.runtime import observing
from gitflink.settings import Settings

EXIT_OK, EXIT_MISSING = 0, 1
COLUMNS = ["name", "kind", "ready", "reason", "lifecycle", "job", "applied", "age", "message"]
WIDE = [*COLUMNS[:-1], "observed", "savepoint", "source", "message"]
MESSAGE_WIDTH = 60  # the table cuts longer messages; -o wide and -o yaml show them whole


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show each resource's health: from the status branch or the local status files",
        description="Without --repo/--status-repo, reads the embedded runtime's status files "
        "in the data dir (what `gitflink sync` wrote). NAME is a resource name or "
        "NAMESPACE/NAME; a NAME that matches nothing exits 1.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these resources")
    options.add_repo(parser, required=False, help="read the status branch of this repository")
    options.add_status_branch(parser)
    options.add_status_backend(parser)
    options.add_cache_dir(parser)
    options.add_data_dir(parser, "read the status files of this data dir")
    options.add_output(parser, ("table", "wide"))
    parser.set_defaults(handler=run)


def _age(status: ResourceStatus, now: datetime) -> str:
    when = status.history[0].applied_at if status.history else None
    when = when or status.reconciliation.reconciled_at
    if when is None:
        return "-"
    seconds = int((now - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _condition(status: ResourceStatus, kind: str) -> Condition | None:
    return next((c for c in status.conditions if c.type == kind), None)


def health(status: ResourceStatus) -> tuple[str, str, str]:
    """(ready, reason, message). A resource with an error is never shown as ready, whatever its
    last Ready condition says: the error is newer than the last successful step."""
    ready, source = _condition(status, "Ready"), _condition(status, "Source")
    value = ready.status.value if ready else ConditionStatus.UNKNOWN.value
    reason = ready.reason if ready else "-"
    message = ready.message if ready and ready.status is not ConditionStatus.TRUE else ""
    if source is not None and source.status is ConditionStatus.FALSE:
        value, reason, message = ConditionStatus.FALSE.value, "source", source.message
    if status.error:
        value, message = ConditionStatus.FALSE.value, status.error
        if reason != "source" and (ready is None or ready.status is ConditionStatus.TRUE):
            reason = "error"
    return value, reason, " ".join(message.split())


def rows(statuses: Mapping[ResourceId, ResourceStatus], now: datetime) -> list[dict[str, str]]:
    out = []
    for rid, status in sorted(statuses.items()):
        savepoint = status.job_status.last_savepoint
        source = _condition(status, "Source")
        ready, reason, message = health(status)
        out.append(
            {
                "name": rid.short,
                "kind": rid.kind.value,
                "ready": ready,
                "reason": reason,
                "lifecycle": status.lifecycle_state.value,
                "job": status.job_status.state or "-",
                "applied": (status.applied_revision or "-")[:7],
                "observed": (status.observed_revision or "-")[:7],
                "savepoint": savepoint.path if savepoint else "-",
                "source": source.status.value if source else "-",
                "age": _age(status, now),
                "message": message,
            }
        )
    return out


def render_table(table: list[dict[str, str]], *, wide: bool = False) -> str:
    if not wide:
        table = [{**r, "message": _cut(r["message"])} for r in table]
    return output.table(table, WIDE if wide else COLUMNS)


def _cut(message: str) -> str:
    return message if len(message) <= MESSAGE_WIDTH else message[: MESSAGE_WIDTH - 3] + "..."


def select(
    statuses: Mapping[ResourceId, ResourceStatus], names: Sequence[str]
) -> tuple[dict[ResourceId, ResourceStatus], list[str]]:
    """The statuses NAME or NAMESPACE/NAME pick (every kind of that name), and the names that
    matched nothing."""
    if not names:
        return dict(statuses), []
    picked: dict[ResourceId, ResourceStatus] = {}
    missing = []
    for given in names:
        namespace, _, name = given.rpartition("/")
        found = {
            rid: status
            for rid, status in statuses.items()
            if rid.name == name and (not namespace or rid.namespace == namespace)
        }
        if not found:
            missing.append(given)
        picked.update(found)
    return picked, missing


@runtime_checkable
class RequestStore(StatusStore, Protocol):
    """A store an agent writes, that takes a request with optimistic locking (the status
    branch, custom resources)."""

    def update(
        self,
        resource: ResourceId,
        change: Callable[[ResourceStatus | None], ResourceStatus],
        message: str,
    ) -> None: ...


def store_for(settings: Settings) -> tuple[StatusStore, str]:
    """The status store the options name (custom resources with --status cr, the status branch
    with --repo/--status-repo, else the data dir's files) and where it is. Raises LookupError
    when it is not there at all (no status branch, no status directory)."""
    if settings.status == "cr":
        return wiring.cr_status_store(
            settings, every_instance=True
        ), "custom resources in Kubernetes"
    if settings.repo or settings.status_repo:
        store = wiring.git_status_store(settings)
        where = f"status branch {settings.status_branch} of {store.url}"
        if not store.branch_exists:
            raise LookupError(f"{where} not found: no agent has written status there yet")
        return store, where
    files = wiring.file_status_store(settings)
    where = str(settings.data_dir)
    if not files.root.is_dir():
        hint = "run `gitflink sync` with it, or give --repo for a status branch"
        raise LookupError(f"no status in {where}: {hint}")
    return files, where


def _load(
    args: argparse.Namespace, settings: Settings
) -> tuple[Mapping[ResourceId, ResourceStatus], str]:
    """(statuses, where they came from); LookupError as `store_for`."""
    store, where = store_for(settings)
    loaded = store.load_all()
    if (
        settings.status == "cr"
        or settings.repo
        or settings.status_repo
        or not wiring.local_runtime(settings).cluster_records()
    ):
        return loaded, where
    return _observed(settings, loaded), where


def _observed(settings: Settings, statuses: Mapping[ResourceId, ResourceStatus]) -> StatusLoad:
    """The embedded runtime's clusters run here: each job's state and Ready as Flink reports
    them now, not as last recorded. An unreachable cluster keeps what was recorded."""
    ports = wiring.local_ports(settings)
    seen = observing.observe(ports, [], statuses)
    now = ports.clock.now()
    window = timedelta(seconds=settings.stability_window_seconds)
    shown = dict(statuses)
    for rid, observed in seen.observed.items():
        if observed.status is not None:
            shown[rid] = reporting.seen_now(observed.status, observed, now, window)
    return StatusLoad(shown, corrupt_of(statuses))


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    try:
        statuses, where = _load(args, settings)
    except LookupError as nothing:
        asked = settings.data_dir_given or settings.repo or settings.status_repo or args.names
        output.error("status", nothing)
        return EXIT_MISSING if asked else EXIT_OK
    except GitflinkError as error:
        output.error("status", error)
        return 1
    for document in corrupt_of(statuses):
        output.error("status", str(document))
    picked, missing = select(statuses, args.names)
    for name in missing:
        output.error("status", f'resource "{name}" not found in {where}')
    if not statuses:
        print(f"No resources found in {where}.", file=sys.stderr)
    if args.output in ("table", "wide"):
        if picked:
            table = rows(picked, datetime.now(UTC))
            sys.stdout.write(render_table(table, wide=args.output == "wide"))
    else:
        documents = {
            str(rid): status.model_dump(mode="json", by_alias=True, exclude_none=True)
            for rid, status in sorted(picked.items())
        }
        output.write_document(documents, args.output)
    return EXIT_MISSING if missing or corrupt_of(statuses) else EXIT_OK
