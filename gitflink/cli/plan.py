"""`gitflink plan`: what merging would do to each Flink job, read straight from Git (no checkout).

The baseline is what is deployed when a status store is given (`--data-dir`, `--status-repo`,
`--status cr`: cli.deployed), else the spec at `--base`. Exit 0 planned, 1 problems or errors,
3 when --fail-on matches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from gitflink import wiring
from gitflink.cli import deployed, options, output
from gitflink.cli.deployed import Observer
from gitflink.cli.validate import add_exclude_argument
from gitflink.core import ignoring, plan_rendering, planning
from gitflink.core.defaulting import with_default_configuration
from gitflink.core.limits import DEFAULT_LIMITS, Limits
from gitflink.core.parsing import ParseResult, parse_files
from gitflink.core.planning import Healing, recorded, removal
from gitflink.core.planning import baseline as planning_baseline
from gitflink.core.planning.removal import PruneGuard
from gitflink.core.validation import validate
from gitflink.model.artifacts import DEFAULT_POLICY, ArtifactPolicy
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import ResourceId
from gitflink.model.manifests import IGNORE_FILE
from gitflink.model.plan import Baseline, DiffClass, Downtime, JobPlan, Plan
from gitflink.model.resources import FlinkSessionJob
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import corrupt_of
from gitflink.ports import Revision
from gitflink.wiring import Revisions

EXIT_PLANNED, EXIT_PROBLEMS, EXIT_FAIL_ON = 0, 1, 3
RENDERERS = {
    "text": plan_rendering.render_text,
    "markdown": plan_rendering.render_markdown,
    "json": plan_rendering.render_json,
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show what a change would do to each Flink job (for pull-request review)",
        description="Plan the change to --head: per resource, the action, upgrade mode, "
        "whether state is lost, downtime and ordered steps, read straight from Git. The "
        "baseline is the spec at --base, or what is deployed: the embedded runtime's status "
        "files (--data-dir, or GITFLINK_DATA_DIR when no --base is given), a status branch "
        "(--status-repo) or the custom resources in Kubernetes (--status cr, or GITFLINK_STATUS "
        "when no --base is given). With --runtime kubernetes the clusters are asked what runs "
        "now. PATHs are repository folders, relative to its root.",
    )
    options.add_paths(parser, "only manifests under these repository folders")
    parser.add_argument(
        "--repo",
        default=".",
        help="Git URL (https://, ssh://, git@host:path, file://) or local path (default: .); "
        "for a URL, --base and --head are branches, tags or full commit ids",
    )
    parser.add_argument("--base", help="base revision, taken as deployed (no status store)")
    parser.add_argument("--head", default="HEAD", help="revision to plan (default: HEAD)")
    options.add_output(parser, tuple(RENDERERS))
    parser.add_argument(
        "--fail-on",
        choices=("state-loss", "restart", "any"),
        help="exit 3 when a change loses state / restarts a job / changes anything",
    )
    parser.add_argument(
        "--no-prune",
        action="store_true",
        help="plan resources removed from Git as orphaned instead of deleted",
    )
    parser.add_argument(
        "--allow-mass-prune",
        action="store_true",
        help="allow one revision to delete more than half of the deployed resources, or all "
        "of them (GITFLINK_ALLOW_MASS_PRUNE); refused by default",
    )
    deployed = parser.add_mutually_exclusive_group()
    options.add_data_dir(deployed, "plan against what is deployed: the status files of")
    deployed.add_argument(
        "--status-repo", help="plan against what is deployed: the status branch of this Git URL"
    )
    parser.add_argument("--status-branch", help="with --status-repo (default: gitflink/status)")
    options.add_runtime(parser)
    parser.add_argument(
        "--instance",
        metavar="NAME",
        help="with --status cr: the gitflink whose custom resources to plan against (label "
        "gitflink.io/instance; default: this source's: --repo, GITFLINK_BRANCH and paths)",
    )
    options.add_cache_dir(parser)
    options.add_self_heal(parser)
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    paths, prune = settings.paths, not args.no_prune
    guard = wiring.prune_guard(settings, allow=args.allow_mass_prune)
    reading = Reading(
        tuple(args.exclude or ()),
        wiring.limits(settings),
        settings.artifact_policy(),
        settings.default_flink_configuration,
    )
    try:
        repo = wiring.revisions(settings, args.repo)
        store = deployed.status_store(args, settings)  # a branch is fetched, an API server asked
        if store is not None:
            statuses = store.load_all()
            # Planning as if a resource had no status would show it as new: refuse instead.
            for document in corrupt_of(statuses):
                output.error("plan", str(document))
            if corrupt_of(statuses):
                return EXIT_PROBLEMS
            # A status branch's clusters run wherever its agent runs: asked only in Kubernetes.
            asked = not args.status_repo or settings.runtime == "kubernetes"
            live = deployed.observer_for(settings, store) if asked else None
            plan = plan_deployed(
                repo,
                args.head,
                statuses,
                paths,
                prune=prune,
                prune_guard=guard,
                reading=reading,
                observer=live,
                healing=wiring.healing(settings),
            )
        else:
            plan = plan_revisions(
                repo, args.base, args.head, paths, prune=prune, prune_guard=guard, reading=reading
            )
    except GitflinkError as error:
        output.error("plan", error)
        return EXIT_PROBLEMS
    if args.output == "yaml":
        sys.stdout.write(output.dump_yaml(json.loads(plan_rendering.render_json(plan))))
    else:
        sys.stdout.write(RENDERERS[args.output](plan))
    if any(problem.is_error for problem in plan.problems):
        return EXIT_PROBLEMS
    matched = failing(plan, args.fail_on) if args.fail_on else []
    if matched:
        names = ", ".join(f"{job.resource.kind.value} {job.resource.short}" for job in matched)
        output.error("plan", f"--fail-on {args.fail_on} matched {len(matched)}: {names}")
        return EXIT_FAIL_ON
    return EXIT_PLANNED


@dataclass(frozen=True)
class Reading:
    """How a revision's files are read: ignore rules (`.gitflinkignore` at the top of the
    repository, then `--exclude`) and size limits, as `sync` and the agent read them."""

    excludes: Sequence[str] = ()
    limits: Limits = DEFAULT_LIMITS
    artifacts: ArtifactPolicy = DEFAULT_POLICY  # the jar URIs the agent may fetch
    # The config file's default Flink configuration, as the agent lays it under each
    # deployment: without it a deployed spec would differ from every manifest by the defaults.
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        parsed = parse_files(files, self.limits)
        return replace(parsed, desired=with_default_configuration(parsed.desired, self.defaults))

    def tree(self, repo: Revisions, rev: Revision, paths: Sequence[str]) -> dict[str, bytes]:
        files = dict(repo.read_tree(rev, paths))
        return ignoring.manifests(files, ignoring.rules(files.get(IGNORE_FILE), self.excludes))


def plan_deployed(
    repo: Revisions,
    head: str,
    statuses: Mapping[ResourceId, ResourceStatus],
    paths: Sequence[str] = (),
    *,
    prune: bool = True,
    prune_guard: PruneGuard | None = None,
    reading: Reading | None = None,
    observer: Observer | None = None,
    healing: Healing | None = None,
) -> Plan:
    """Plan --head against what is deployed: what `observer` sees running (the local
    runtime), else what the status store last recorded. Every file at --head is read: any
    resource may differ from what runs, whatever the last commit touched."""
    reading = reading or Reading()
    head_rev = repo.resolve(head)
    parsed = reading.parse(reading.tree(repo, head_rev, paths))
    checked = validate(parsed.desired, broken=parsed.broken, artifacts=reading.artifacts)
    problems = [*parsed.problems, *checked]
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    declared = {record.resource.id: record.file for record in parsed.desired}
    if observer is not None:
        observed = observer.observe([record.resource for record in parsed.desired], statuses)
        note = observer.note
    else:
        observed = recorded.observed_from_status(statuses)
        note = "job states are as last recorded in status; Flink itself was not asked"
    return planning.plan_changes(
        parsed.desired,
        observed,
        prune=prune,
        prune_guard=prune_guard,
        problems=problems,
        known_files=removal.known_files(declared, problems, statuses),
        baseline=Baseline.DEPLOYED,
        head=head_rev.sha,
        notes=[note],
        healing=replace(healing or Healing(), now=datetime.now(UTC)),
    )


def plan_revisions(
    repo: Revisions,
    base: str,
    head: str,
    paths: Sequence[str] = (),
    *,
    prune: bool = True,
    prune_guard: PruneGuard | None = None,
    reading: Reading | None = None,
) -> Plan:
    """Plan base -> head. Only files that differ are parsed, plus unchanged files that mention a
    changed resource's name (its session cluster, its session jobs, a duplicate): every other
    unchanged file is the same at both revisions and so cannot change the plan."""
    reading = reading or Reading()
    base_rev, head_rev = repo.resolve(base), repo.resolve(head)
    base_files = reading.tree(repo, base_rev, paths)
    head_files = reading.tree(repo, head_rev, paths)
    changed = {
        path
        for path in base_files.keys() | head_files.keys()
        if base_files.get(path) != head_files.get(path)
    }
    before = reading.parse({p: base_files[p] for p in changed if p in base_files})
    after = reading.parse({p: head_files[p] for p in changed if p in head_files})
    names = _names(before) | _names(after)
    related = reading.parse(
        {
            path: data
            for path, data in head_files.items()
            if path not in changed and any(name in data for name in names)
        },
    )
    unchanged = len(head_files.keys() - changed)
    observed = planning_baseline.observed_from_revision(
        (record.resource for record in (*before.desired, *related.desired)), base_rev.sha
    )
    desired = (*after.desired, *related.desired)
    changed_ids = {record.resource.id for record in after.desired}
    checked = validate(desired, broken=after.broken | related.broken, artifacts=reading.artifacts)
    problems = [
        *after.problems,
        *(p for p in checked if p.file in changed or p.resource in changed_ids),
    ]
    problems.sort(key=lambda p: (p.file, p.line, p.column))
    notes = [f"{unchanged} file(s) unchanged between the revisions; their resources keep running"]
    base_errors = [p for p in before.problems if p.is_error]
    if base_errors:
        notes.append(
            f"the base revision has {len(base_errors)} problem(s): resources it could not "
            "read are planned as new"
        )
    return planning.plan_changes(
        desired,
        observed,
        prune=prune,
        prune_guard=prune_guard,
        problems=problems,
        baseline=Baseline.REVISION,
        base=base_rev.sha,
        head=head_rev.sha,
        known_files={r.resource.id: r.file for r in (*before.desired, *related.desired)},
        notes=notes,
    )


def _names(result: ParseResult) -> set[bytes]:
    """Names a changed resource is referred to by, or refers to, as they appear in YAML."""
    names: set[bytes] = set()
    for record in result.desired:
        names.add(record.resource.metadata.name.encode())
        if isinstance(record.resource, FlinkSessionJob):
            names.add(record.resource.spec.deployment_name.encode())
    names |= {p.resource.name.encode() for p in result.problems if p.resource is not None}
    return names


def failing(plan: Plan, condition: str) -> list[JobPlan]:
    """The changed jobs that match a --fail-on condition."""
    jobs = plan_rendering.changed_jobs(plan)
    if condition == "state-loss":
        return [job for job in jobs if job.state_loss]
    if condition == "restart":
        return [job for job in jobs if job.downtime is Downtime.RESTART or job.state_loss]
    return [job for job in jobs if job.diff is not DiffClass.NONE]
