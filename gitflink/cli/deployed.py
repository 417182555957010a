"""What `gitflink plan` and `gitflink rollback` plan against when it is what is deployed: the
status store the options name (status files, a status branch, or the custom resources of
`--status cr`) and, where clusters can be asked, an observer of what runs now."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gitflink import wiring
from gitflink.cli import options
from gitflink.core.planning import recorded
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.observed import Observed
from gitflink.model.resources import AnyResource
from gitflink.model.status import ResourceStatus
from gitflink.ports import StatusStore
from gitflink.runtime import observing
from gitflink.settings import Settings

NO_BASE = "give --base REV to plan between revisions"


@dataclass(frozen=True)
class Observer:
    """Observes the resources now; `note` says what was asked, in the plan's notes."""

    observe: Callable[
        [Sequence[AnyResource], Mapping[ResourceId, ResourceStatus]],
        Mapping[ResourceId, Observed],
    ]
    note: str


def status_store(args: argparse.Namespace, settings: Settings) -> StatusStore | None:
    """The store to plan against, or None for --base. Raises GitflinkError when the store asked
    for holds no status at all: planning every resource as new would hide the mistake."""
    others = args.base is not None or args.data_dir is not None or args.status_repo
    if args.status == "cr" and others:
        raise options.UsageError(
            "--status cr is a baseline of its own: not with --base, --data-dir or --status-repo"
        )
    if args.instance is not None and settings.status != "cr":
        raise options.UsageError("--instance picks custom resources: only with --status cr")
    if settings.status == "cr" and not others:
        return cr_store(settings, args.instance)
    if args.status_repo:
        branch = wiring.git_status_store(settings)
        if not branch.branch_exists:
            raise GitflinkError(
                f"status branch {settings.status_branch} not found at {branch.url}: nothing "
                f"deployed to plan against ({NO_BASE})"
            )
        return branch
    if args.base is not None and args.data_dir is None:
        return None
    if args.data_dir is None and not settings.data_dir_given:
        raise options.UsageError(
            "give --base REV, or --data-dir/--status-repo/--status cr to plan against"
        )
    files = wiring.file_status_store(settings)
    if not files.root.is_dir():
        raise GitflinkError(
            f"no status in {settings.data_dir}: nothing was deployed with this data dir "
            f"(`gitflink sync --data-dir` writes it; {NO_BASE})"
        )
    return files


def cr_store(settings: Settings, chosen: str | None = None) -> StatusStore:
    """The custom resources of one gitflink instance: `chosen`, else this source's (repository,
    GITFLINK_BRANCH and paths, as the agent is given them). Raises GitflinkError when there are
    no gitflink custom resources at all, or none of that instance (naming those there are):
    planning against another gitflink's resources would show ours as new and its as deleted."""
    client = wiring.kube_client(settings, "--status cr")
    found = wiring.cr_status_store(settings, client, every_instance=True).instances()
    where = "namespaces " + ", ".join(settings.namespaces) if settings.namespaces else "the cluster"
    if not found:
        raise GitflinkError(
            f"no gitflink custom resources in {where}: nothing deployed with --status cr to "
            f"plan against (is the kube context right? {NO_BASE})"
        )
    label = chosen or wiring.instance_of(settings)
    if label not in found:
        seen = "; ".join(
            f"{name} ({len(ids)} resource(s), e.g. {ids[0].short})"
            for name, ids in sorted(found.items())
        )
        asked = f"instance {label}" if chosen else f"this source's instance {label}"
        raise GitflinkError(
            f"no custom resources of gitflink {asked} in {where}; gitflink instances there: "
            f"{seen}. Give --instance NAME (label gitflink.io/instance), or the --repo URL, "
            "GITFLINK_BRANCH and paths the agent follows"
        )
    return wiring.cr_status_store(settings, client, instance=label)


def observer_for(settings: Settings, store: StatusStore | None = None) -> Observer | None:
    """What runs now, asked of the clusters and Flink as a pass asks: in Kubernetes with
    `--runtime kubernetes`, else under the data dir. A cluster that does not answer is planned
    from its recorded status. None when the data dir never ran a cluster (a copy of status
    files): planned from what they record."""
    if settings.runtime == "kubernetes":
        ports = wiring.ports(settings, status=store)
        note = "observed now: the clusters in Kubernetes and their Flink REST APIs"
    elif wiring.local_runtime(settings).cluster_records():
        ports = wiring.local_ports(settings, status=store)
        note = "observed now: the clusters under the data dir and their Flink REST APIs"
    else:
        return None

    def observe(
        desired: Sequence[AnyResource], statuses: Mapping[ResourceId, ResourceStatus]
    ) -> Mapping[ResourceId, Observed]:
        seen = observing.observe(ports, desired, statuses)
        found = recorded.observed_from_status(statuses)
        found.update(seen.observed)
        return found

    return Observer(observe, note)
