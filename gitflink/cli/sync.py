"""`gitflink sync --repo URL|PATH [--branch NAME] [PATH...]`: one reconciliation pass of a Git
repository (remote or local) against Flink clusters on this machine. Prints one table row per
resource (or `-o json|yaml`); exit 0 when everything applied, else 1."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from gitflink import wiring
from gitflink.cli import options, output
from gitflink.cli.validate import add_exclude_argument
from gitflink.core.plan_rendering import problem_json
from gitflink.core.planning import Healing
from gitflink.core.planning.removal import PruneGuard
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import Kind, ResourceId
from gitflink.ports import Ports
from gitflink.runtime import progress as progress_output
from gitflink.runtime.executor import Execution
from gitflink.runtime.notifying import Notifier
from gitflink.runtime.reading import ManifestReader
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="apply a Git repository to Flink clusters, on this machine or Kubernetes (one pass)",
        description="Plan and execute once: start clusters, deploy, upgrade (savepoint, "
        "last-state, stateless), suspend, resume and delete jobs so that what runs matches "
        "the repository's revision. Clusters run as local JVMs, or in Kubernetes with --runtime "
        "kubernetes. Status goes to <data-dir>/status/ (or, with --status cr, to the "
        "resources' custom resources). Credentials for "
        "remote repositories come from the environment (GITFLINK_GIT_TOKEN, "
        "GITFLINK_GIT_SSH_KEY, ...): see docs/configuration.md.",
    )
    options.add_repo(parser, required=True, help="the repository to apply")
    parser.add_argument(
        "--branch",
        "--ref",
        dest="branch",
        help="branch, tag or commit to apply (default: the remote's HEAD; HEAD for a local path)",
    )
    options.add_paths(parser, "only manifests under these repository folders")
    options.add_data_dir(parser, "clusters and status")
    options.add_cache_dir(parser)
    options.add_runtime(parser)
    options.add_verify(parser)
    options.add_self_heal(parser)
    parser.add_argument(
        "--no-prune",
        action="store_true",
        help="leave resources removed from Git running (reported as orphaned)",
    )
    parser.add_argument(
        "--allow-mass-prune",
        action="store_true",
        help="allow one revision to delete more than half of the deployed resources, or all "
        "of them (GITFLINK_ALLOW_MASS_PRUNE); refused by default",
    )
    parser.add_argument("-j", "--jobs", type=int, default=4, help="resources in parallel")
    options.add_output(parser, ("table",))
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = options.settings_from(args)
    try:
        source = wiring.source_for(settings, args.repo, args.branch)
        ports = wiring.ports(settings, source)
    except GitflinkError as error:
        output.error("sync", error)
        return EXIT_FAILED
    guard = wiring.prune_guard(settings, allow=args.allow_mass_prune)
    reader = wiring.manifest_reader(settings)
    result = sync(
        ports,
        settings.paths,
        prune=not args.no_prune,
        workers=args.jobs,
        reader=reader,
        prune_guard=guard,
        source_id=wiring.source_id(settings),
        healing=wiring.healing(settings),
        stable_after=settings.stability_window_seconds,
        notifier=wiring.notifier(settings),
        flink_defaults=settings.default_flink_configuration,
    )
    if args.output == "table":
        print_result(result, ports, sys.stdout)
    else:
        output.write_document(result_document(result, ports), args.output)
    if result.error:
        output.error("sync", result.error)
    return EXIT_OK if result.ok else EXIT_FAILED


def sync(
    ports: Ports,
    paths: Sequence[str],
    *,
    prune: bool = True,
    workers: int = 4,
    reader: ManifestReader | None = None,
    prune_guard: PruneGuard | None = None,
    source_id: str | None = None,
    healing: Healing | None = None,
    stable_after: float = 60.0,
    notifier: Notifier | None = None,
    flink_defaults: Mapping[str, Any] | None = None,
    only: frozenset[ResourceId] | None = None,
) -> PassResult:
    """One pass with live progress on stderr (rich on a terminal, plain lines otherwise). Pass
    the same `reader` to several calls so unchanged files are not parsed again. `source_id`:
    the source this is, which prunes only what it manages (`wiring.source_id`)."""
    loaded = wiring.validators()
    display = progress_output.for_stream(sys.stderr)
    config = PassConfig(
        roots=tuple(paths),
        prune=prune,
        prune_guard=prune_guard or PruneGuard(),
        max_workers=workers,
        progress=display,
        validators=loaded.validators,
        plugin_errors=loaded.errors,
        reader=reader or ManifestReader(),
        source_id=source_id,
        healing=healing or Healing(),
        stable_after=stable_after,
        notifier=notifier or Notifier(),
        flink_defaults=flink_defaults or {},
        only=only,
    )
    live = display if isinstance(display, progress_output.LiveProgress) else None
    with live or contextlib.nullcontext():
        return run_pass(ports, config)


def _clusters(ports: Ports) -> list[tuple[str, str]]:
    return sorted(
        (h.resource.short, h.rest_url)
        for h in ports.runtime.list_clusters()
        if h.resource.kind is Kind.FLINK_DEPLOYMENT
    )


def _verdict(result: PassResult, execution: Execution) -> str:
    """ok only when the steps worked and the job runs as Git says (observed, not assumed)."""
    if not execution.ok:
        return "FAILED"
    health = result.unhealthy.get(execution.resource)
    return health.verdict if health is not None else "ok"


def _message(execution: Execution, result: PassResult | None = None) -> str:
    if execution.error:
        return f"{execution.error} ({execution.next})" if execution.next else execution.error
    health = result.unhealthy.get(execution.resource) if result is not None else None
    if health is not None and not execution.outcomes:
        return health.reason
    return execution.outcomes[-1].detail if execution.outcomes else "nothing to do"


def print_result(result: PassResult, ports: Ports, out: TextIO) -> None:
    """The problems, one table row per resource, and each cluster's Web UI. A pass that could
    not start (Git unreadable) prints nothing here: its error goes to stderr."""
    if result.error:
        return
    revision = result.revision.short if result.revision else "?"
    out.write(f"synced revision {revision}\n")
    for problem in result.problems:
        out.write(f"  {problem}\n")
    for document in result.corrupt:
        if document.resource is None:  # the others are named by their resource's row
            out.write(f"FAIL {document}\n")
    rows = [
        {
            "resource": e.resource.short,
            "kind": e.resource.kind.value,
            "action": e.action.value,
            "result": _verdict(result, e),
            "message": _message(e, result),
        }
        for e in result.executions
    ]
    if rows:
        out.write(output.table(rows, ["resource", "kind", "action", "result", "message"]))
    for name, url in _clusters(ports):
        out.write(f"Flink Web UI {name}: {url}\n")


def result_document(result: PassResult, ports: Ports) -> dict[str, Any]:
    """The pass as one JSON-compatible document, for `-o json|yaml`."""
    return {
        "revision": result.revision.sha if result.revision else None,
        "ok": result.ok,
        "error": result.error,
        "problems": [problem_json(p) for p in result.problems],
        "resources": [
            {
                "resource": str(e.resource),
                "kind": e.resource.kind.value,
                "namespace": e.resource.namespace,
                "name": e.resource.name,
                "action": e.action.value,
                "ok": e.ok and e.resource not in result.unhealthy,
                "result": _verdict(result, e),
                "message": _message(e, result),
                "error": e.error,
                "next": str(e.next) if e.next else None,
                "steps": [o.model_dump(mode="json", exclude_none=True) for o in e.outcomes],
            }
            for e in result.executions
        ],
        "clusters": [{"resource": name, "restUrl": url} for name, url in _clusters(ports)],
    }
