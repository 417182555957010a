"""`gitflink rollback RESOURCE --to REVISION [--yes]`: run the spec a Git revision gave a resource
again, from the savepoint recorded for that revision. Shows the plan and asks first.

Git stays the source of truth: the rollback is pinned like a rolled-back spec. While Git still
asks for the spec it asked for when the rollback ran, that spec is not applied; the next commit
that changes the resource's spec is (docs/rollback.md).

With the data dir's status files (`gitflink sync`) it is carried out here, by one pass
restricted to the resource. With an agent's store (the status branch, custom resources) the
agent runs Flink, so a second pass here would race it: the pin is recorded there instead, with
optimistic locking, and the agent carries it out on its next pass."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import UTC, datetime
from typing import Any

from gitflink import wiring
from gitflink.cli import options, output, waiting
from gitflink.cli.deployed import observer_for
from gitflink.cli.plan import Reading, plan_deployed
from gitflink.cli.status import RequestStore, store_for
from gitflink.cli.sync import print_result, sync
from gitflink.core import plan_rendering
from gitflink.core.restore_points import savepoint_for
from gitflink.model.errors import GitflinkError
from gitflink.model.fingerprints import spec_digest
from gitflink.model.ids import ResourceId
from gitflink.model.plan import Action, Plan
from gitflink.model.resources import FlinkDeployment, FlinkSessionJob, UpgradeMode
from gitflink.model.rollback import Rollback
from gitflink.model.status import ResourceStatus
from gitflink.ports import Revision
from gitflink.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_DECLINED = 0, 1, 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="run a resource's spec of an earlier revision again, from its savepoint",
        description="Restore the spec RESOURCE had at REVISION (read from Git) from the "
        "savepoint recorded for that revision, after showing the plan and asking. With the "
        "data dir's status files it is carried out here; with an agent's status branch "
        "(--status-repo/--status-branch) or custom resources (--status cr) it is recorded "
        "there and the agent carries it out. The rollback holds until Git changes the "
        "resource's spec; see docs/rollback.md.",
    )
    parser.add_argument("resource", metavar="RESOURCE", help="a resource name or NAMESPACE/NAME")
    parser.add_argument("--to", required=True, metavar="REVISION", help="the revision to restore")
    parser.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="with an agent's store: wait until the agent rolled back (exit 1 after SECONDS)",
    )
    options.add_repo(parser, required=True, help="the repository the resource is applied from")
    parser.add_argument("--branch", "--ref", dest="branch", help="the branch that is applied")
    options.add_paths(parser, "only manifests under these repository folders")
    options.add_status_branch(parser)
    options.add_data_dir(parser, "clusters and status")
    options.add_cache_dir(parser)
    options.add_runtime(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    try:
        source = wiring.source_for(settings, args.repo, args.branch)
        agent = _agent_store(args, settings)
        ports = wiring.ports(settings, source) if agent is None else None
        store = agent[0] if agent is not None else wiring.file_status_store(settings)
        head = source.fetch()
        statuses = dict(store.load_all())
        rid = _resource(args.resource, statuses)
        status = statuses[rid]
        if not isinstance(status, ResourceStatus):
            raise GitflinkError(f"the status of {rid.short} cannot be read: {status}")
        pinned = _pinned(settings, args, head, rid, status)
        if agent is not None:
            _requestable(rid, status)
    except GitflinkError as error:
        output.error("rollback", error)
        return EXIT_FAILED
    preview = plan_deployed(
        wiring.revisions(settings, args.repo),
        head.sha,
        {**statuses, rid: pinned},
        settings.paths,
        reading=_reading(settings),
        observer=observer_for(settings) if agent is None else None,
        healing=wiring.healing(settings),
    )
    job = preview.for_resource(rid)
    shown = Plan(jobs=(job,) if job else (), baseline=preview.baseline, head=head.sha)
    sys.stdout.write(plan_rendering.render_text(shown))
    if job is None or job.action is not Action.ROLLBACK:
        reason = job.blocked if job is not None and job.blocked else "nothing to roll back"
        output.error("rollback", reason)
        return EXIT_FAILED
    if not args.yes and not _confirmed(rid, args.to):
        output.error("rollback", "not confirmed: nothing changed")
        return EXIT_DECLINED
    record = pinned.reconciliation.rollback
    assert record is not None and record.to_revision is not None
    message = f"{rid.short} rollback to {record.to_revision[:7]} requested"
    if agent is not None:
        return _request(agent, rid, record, message, args.wait)
    assert ports is not None
    ports.status.save(rid, pinned, message)
    result = sync(
        ports,
        settings.paths,
        healing=wiring.healing(settings),
        stable_after=settings.stability_window_seconds,
        flink_defaults=settings.default_flink_configuration,
        only=frozenset({rid}),
    )
    print_result(result, ports, sys.stdout)
    return EXIT_OK if result.ok else EXIT_FAILED


def _agent_store(args: argparse.Namespace, settings: Settings) -> tuple[RequestStore, str] | None:
    """The agent's store the options name (custom resources, the status branch) and where it
    is; None for the data dir's status files. Raises GitflinkError when it holds no status."""
    branch = args.status_repo or args.status_branch or settings.status_repo
    if settings.status != "cr" and not branch:
        return None
    try:
        store, where = store_for(
            dataclasses.replace(settings, status_repo=settings.status_repo or args.repo)
        )
    except LookupError as nothing:
        raise GitflinkError(str(nothing)) from None
    assert isinstance(store, RequestStore)
    return store, where


def _requestable(rid: ResourceId, status: ResourceStatus | None) -> None:
    """Raises GitflinkError when the agent is in the middle of a change of `rid`: a rollback
    requested now would cut it short."""
    if status is None:
        raise GitflinkError(f"{rid.short} has no status: nothing to roll back")
    if status.pending is not None:
        raise GitflinkError(
            f"{rid.short} is in the middle of a change ({status.pending.action}): ask again once "
            "the agent finished it"
        )


def _request(
    agent: tuple[RequestStore, str],
    rid: ResourceId,
    record: Rollback,
    message: str,
    wait: float | None,
) -> int:
    """Record the rollback in the agent's store; the agent carries it out on its next pass."""
    store, where = agent

    def pin(current: ResourceStatus | None) -> ResourceStatus:
        _requestable(rid, current)
        assert current is not None
        pinned = current.model_copy(deep=True)
        pinned.reconciliation.rollback = record
        return pinned

    try:
        store.update(rid, pin, message)
        print(f"{message}: recorded in {where}; the agent carries it out on its next pass")
        if wait is not None:
            print(f"{rid.short}: {waiting.waited(store, rid, waiting.rolled_back(record), wait)}")
    except GitflinkError as error:
        output.error("rollback", error)
        return EXIT_FAILED
    return EXIT_OK


def _resource(name: str, statuses: dict[ResourceId, Any]) -> ResourceId:
    found = [rid for rid in statuses if name in (rid.name, rid.short, str(rid))]
    if len(found) != 1:
        what = "no deployed resource" if not found else "more than one resource"
        raise GitflinkError(f"{what} named {name} (gitflink status lists them)")
    return found[0]


def _pinned(
    settings: Settings, args: argparse.Namespace, head: Revision, rid: ResourceId, status: Any
) -> ResourceStatus:
    """The status with the rollback recorded: the spec at --to, its savepoint, and the digest
    of the spec Git asks for now (not applied while Git asks for it)."""
    repo = wiring.revisions(settings, args.repo)
    reading = _reading(settings)
    target_rev = repo.resolve(args.to)
    at_target = _spec(reading, repo, target_rev, rid, settings)
    if at_target is None:
        raise GitflinkError(f"{rid.short} is not declared at revision {args.to}")
    at_head = _spec(reading, repo, repo.resolve(head.sha), rid, settings)
    if at_head is None:
        raise GitflinkError(f"{rid.short} is not declared at {head.short}: nothing to pin")
    spec, resource = at_target
    savepoint = savepoint_for(status, target_rev.sha)
    job = resource.spec.job
    if savepoint is None and job is not None and job.upgrade_mode is not UpgradeMode.STATELESS:
        raise GitflinkError(
            f"no savepoint is recorded for revision {target_rev.short} of {rid.short}: "
            "nothing to restore its state from"
        )
    record = Rollback(
        git_digest=spec_digest(at_head[0]),
        git_revision=head.sha,
        reason=f"gitflink rollback --to {target_rev.short}",
        at=datetime.now(UTC),
        manual=True,
        to_revision=target_rev.sha,
        spec=spec,
        restore_point=savepoint.path if savepoint else None,
    )
    pinned: ResourceStatus = status.model_copy(deep=True)
    pinned.reconciliation.rollback = record
    return pinned


def _spec(
    reading: Reading, repo: Any, revision: Revision, rid: ResourceId, settings: Settings
) -> tuple[dict[str, Any], FlinkDeployment | FlinkSessionJob] | None:
    parsed = reading.parse(reading.tree(repo, revision, settings.paths))
    for record in parsed.desired:
        resource = record.resource
        if resource.id == rid and isinstance(resource, FlinkDeployment | FlinkSessionJob):
            spec: dict[str, Any] = resource.to_manifest().get("spec", {})
            return spec, resource
    return None


def _reading(settings: Settings) -> Reading:
    return Reading(
        (),
        wiring.limits(settings),
        settings.artifact_policy(),
        settings.default_flink_configuration,
    )


def _confirmed(rid: ResourceId, revision: str) -> bool:
    if not sys.stdin.isatty():
        output.error("rollback", "stdin is not a terminal: pass --yes to roll back without asking")
        return False
    answer = input(f"Roll {rid.short} back to {revision}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")
