"""`gitflink local list|stop`: the Flink clusters the embedded runtime runs on this machine."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from gitflink.cli import options, output
from gitflink.model.errors import ClusterError
from gitflink.model.ids import Kind, ResourceId
from gitflink.wiring import local_runtime


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("local", help="list or stop the local Flink clusters")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each cluster with its resource, pids and REST URL")
    options.add_data_dir(listing, "the clusters recorded in this data dir")
    options.add_output(listing, ("table",))
    listing.set_defaults(handler=run_list)
    stop = actions.add_parser("stop", help="stop a cluster (by pid) and remove its files")
    options.add_data_dir(stop, "the clusters recorded in this data dir")
    target = stop.add_mutually_exclusive_group(required=True)
    target.add_argument("name", nargs="?", help="NAME or NAMESPACE/NAME")
    target.add_argument("--all", action="store_true", help="every recorded cluster")
    stop.set_defaults(handler=run_stop)
    for action in (listing, stop):
        options.add_logging_flags(action)


def run_list(args: argparse.Namespace) -> int:
    runtime = local_runtime(options.settings_from(args))
    rows: list[dict[str, Any]] = []
    for state, alive in runtime.cluster_records():
        rows.append(
            {
                "resource": f"{state.namespace}/{state.name}",
                "version": state.version,
                "restUrl": state.rest_url,
                "pids": list(state.pids),
                "alive": alive,
                "startedAt": datetime.fromtimestamp(state.started_at, UTC).isoformat(),
                "dir": state.root,
            }
        )
    if args.output != "table":
        output.write_document(rows, args.output)
        return 0
    if not rows:
        print(f"No local clusters in {runtime.data_dir}.", file=sys.stderr)
        return 0
    print(f"{'RESOURCE':<32} {'VERSION':<8} {'STATE':<8} {'REST URL':<24} PIDS")
    for row in rows:
        running = "running" if row["alive"] else "stopped"
        pids = " ".join(str(p) for p in row["pids"])
        print(f"{row['resource']:<32} {row['version']:<8} {running:<8} {row['restUrl']:<24} {pids}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    runtime = local_runtime(options.settings_from(args))
    records = runtime.cluster_records()
    if args.all:
        targets = [(s.namespace, s.name) for s, _ in records]
    else:
        namespace, _, name = args.name.rpartition("/")
        matches = [
            (s.namespace, s.name)
            for s, _ in records
            if s.name == name and (not namespace or s.namespace == namespace)
        ]
        if not matches:
            print(f"no local cluster named {args.name}", file=sys.stderr)
            return 1
        if len(matches) > 1:
            names = ", ".join(f"{ns}/{n}" for ns, n in matches)
            print(f"{args.name} is ambiguous ({names}); use NAMESPACE/NAME", file=sys.stderr)
            return 1
        targets = matches
    failed = 0
    for namespace, name in targets:
        try:
            runtime.delete_cluster(ResourceId(Kind.FLINK_DEPLOYMENT, namespace, name))
            print(f"stopped {namespace}/{name}")
        except ClusterError as error:
            print(f"{namespace}/{name}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0
