"""`gitflink render PATH... [-o yaml|json]`: the Kubernetes objects gitflink applies for each
FlinkDeployment, offline, to review or to `kubectl apply --dry-run=server -f -`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gitflink import wiring
from gitflink.cli import options, output
from gitflink.cli.validate import add_exclude_argument, read_manifests
from gitflink.core.parsing import parse_files
from gitflink.core.rendering.manifests import RenderContext, first_start, render
from gitflink.core.validation import validate
from gitflink.model.resources import FlinkDeployment, JobState


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        help="print the Kubernetes objects of each FlinkDeployment",
        description="Print the Kubernetes objects gitflink applies for each FlinkDeployment "
        "(JobManager and TaskManager Deployments, Services, the Flink ConfigMap, RBAC, "
        "Ingress), offline. Owner references are added when applying: they need the owner's "
        "uid. A job is shown as its first deployment starts it (generation 1, "
        "job.initialSavepointPath). FlinkSessionJobs and FlinkStateSnapshots have no objects "
        "of their own.",
    )
    options.add_paths(parser, "files or directories")
    parser.add_argument(
        "-o",
        "--output",
        choices=("yaml", "json"),
        default="yaml",
        help="yaml: a multi-document stream; json: one v1 List",
    )
    parser.add_argument(
        "--revision", metavar="SHA", help="label the objects with this Git revision"
    )
    add_exclude_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not options.paths_of(args):
        raise options.UsageError("give the files or directories to render (PATH...)")
    limits = wiring.limits(options.settings_from(args))
    files, problems = read_manifests(options.paths_of(args), args.exclude, limits)
    parsed = parse_files(files, limits)
    problems += list(parsed.problems)
    problems += validate(parsed.desired, (), broken=parsed.broken)
    broken = {p.resource for p in problems if p.is_error}
    objects: list[dict[str, Any]] = []
    for desired in sorted(parsed.desired, key=lambda d: d.id):
        resource = desired.resource
        if not isinstance(resource, FlinkDeployment) or resource.id in broken:
            continue
        job = resource.spec.job
        if job is not None and job.state is JobState.SUSPENDED:
            print(
                f"{resource.id.short}: suspended: no cluster runs, nothing to apply",
                file=sys.stderr,
            )
            continue
        context = RenderContext(revision=args.revision, start=first_start(resource))
        objects += render(resource, context)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.output == "json":
        output.write_document({"apiVersion": "v1", "kind": "List", "items": objects}, "json")
    else:
        sys.stdout.write("---\n".join(output.dump_yaml(obj) for obj in objects))
    return 1 if any(p.is_error for p in problems) else 0
