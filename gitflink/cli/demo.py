"""`gitflink demo [--keep]`: the whole flow on real Flink in a throwaway Git repository:
deploy, commit a change that needs a savepoint upgrade, plan it, apply it, show the result."""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gitflink import wiring
from gitflink.cli import options
from gitflink.cli.plan import plan_revisions
from gitflink.cli.sync import print_result, sync
from gitflink.core import plan_rendering
from gitflink.model.errors import GitflinkError
from gitflink.model.ids import Kind, ResourceId
from gitflink.ports import FlinkApi, Ports

PACKAGED_SAMPLE_REPO = Path(__file__).resolve().parents[1] / "sample_repo"  # in a wheel
CHECKOUT_SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample-repo"  # in a checkout
DEMO_PATH = "streaming/orders.yaml"  # the savepoint-mode application the demo upgrades
ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")


def sample_repo() -> Path:
    """The example repository: the installed package's copy, else the source checkout's."""
    return PACKAGED_SAMPLE_REPO if PACKAGED_SAMPLE_REPO.is_dir() else CHECKOUT_SAMPLE_REPO


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="deploy and savepoint-upgrade a job on real local Flink, end to end",
        description="Copies sample-repo into a throwaway Git repository, syncs it (a Flink "
        "cluster and job start on this machine), commits a change that needs a savepoint "
        "upgrade, shows its plan, syncs again and shows the savepoint and the restore.",
    )
    parser.add_argument("--keep", action="store_true", help="leave Flink running afterwards")
    parser.add_argument("--sample-repo", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def _say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=gitflink demo"]
    command += ["-c", "user.email=demo@gitflink.invalid", "-c", "commit.gpgsign=false", *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def run(args: argparse.Namespace) -> int:
    args.sample_repo = args.sample_repo or sample_repo()
    if not (args.sample_repo / DEMO_PATH).is_file():
        print(f"gitflink demo: {args.sample_repo / DEMO_PATH} not found", file=sys.stderr)
        return 1
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="gitflink-demo-"))
    settings = dataclasses.replace(options.settings_from(args), data_dir=workdir / "data")
    repo = workdir / "repo"
    runtime = wiring.local_runtime(settings)  # the same clusters the pass starts, for cleanup
    try:
        _say(f"copying {args.sample_repo} into a throwaway Git repository {repo}")
        shutil.copytree(args.sample_repo, repo)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "sample-repo")
        return _demo(repo, wiring.local_ports(settings, wiring.local_repository(repo)))
    except (GitflinkError, OSError, subprocess.CalledProcessError) as error:
        print(f"gitflink demo: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            _say(f"--keep: Flink keeps running; data in {workdir}")
            print(
                f"   stop it with: GITFLINK_DATA_DIR={settings.data_dir} gitflink local stop --all"
            )
        else:
            _say("stopping everything the demo started")
            for handle in runtime.list_clusters():
                runtime.delete_cluster(handle.resource)
                print(f"   stopped {handle.resource.short} (pids {list(handle.pids)})")
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"\ndemo took {time.monotonic() - started:.0f} s")


def _demo(repo: Path, ports: Ports) -> int:
    _say(
        "gitflink sync: every cluster and job of sample-repo (builds the example job at first use)"
    )
    first = sync(ports, [])
    print_result(first, ports, sys.stdout)
    if not first.ok:
        return 1
    api, job_id = _job(ports)
    before = _wait_gauge(api, job_id, "maxCount", minimum=10)
    print(f"   job {job_id} is counting: highest count per key so far {before:.0f}")

    _say("commit a change that needs a savepoint upgrade: parallelism 2 -> 3, --rate 50 -> 100")
    manifest = repo / DEMO_PATH
    text = manifest.read_text()
    changed = re.sub(r"parallelism: 2\b", "parallelism: 3", text, count=1)
    changed = changed.replace('"--rate", "50"', '"--rate", "100"', 1)
    if changed == text:
        print("gitflink demo: could not edit the sample manifest", file=sys.stderr)
        return 1
    manifest.write_text(changed)
    _git(repo, "commit", "-q", "-am", "orders: parallelism 3, rate 100")

    _say("gitflink plan --base HEAD~1 --head HEAD")
    plan = plan_revisions(wiring.local_repository(repo), "HEAD~1", "HEAD", [], prune=True)
    sys.stdout.write(plan_rendering.render_text(plan))

    _say("gitflink sync: stop with a savepoint, restore the new version from it")
    second = sync(ports, [])
    print_result(second, ports, sys.stdout)
    if not second.ok:
        return 1
    return _show_result(ports, job_id, before)


def _job(ports: Ports) -> tuple[FlinkApi, str]:
    status = ports.status.load(ORDERS)
    handle = ports.runtime.find_cluster(ORDERS)
    if status is None or status.job_status.job_id is None or handle is None:
        raise GitflinkError("the demo job is not running")
    return ports.flink(handle.rest_url), status.job_status.job_id


def _show_result(ports: Ports, old_job: str, before: float) -> int:
    api, job_id = _job(ports)
    status = ports.status.load(ORDERS)
    assert status is not None
    savepoint = status.job_status.last_savepoint
    restored = api.checkpoints(job_id).restored
    _say("result")
    print(f"   old job {old_job} -> new job {job_id} (generation {status.job_status.generation})")
    print(f"   savepoint taken:         {savepoint.path if savepoint else '-'}")
    print(f"   Flink reports restored:  {restored}")
    parallelism = sorted({v.parallelism for v in api.job_details(job_id).vertices})
    print(f"   parallelism now:         {parallelism}")
    start = _wait_gauge(api, job_id, "startCount", minimum=1, pick_min=True)
    print(f"   counters continued: the new job's lowest first count per subtask is {start:.0f}")
    print(f"   (the old job had counted up to {before:.0f}; an empty start would show 1)")
    _say("status (the write-ahead log, in <data-dir>/status/)")
    print(f"   lifecycle {status.lifecycle_state.value}, applied {status.applied_revision}")
    for entry in status.history:
        print(f"   history: {entry.action} at {entry.revision} savepoint={entry.savepoint or '-'}")
    handle = ports.runtime.find_cluster(ORDERS)
    print(f"\n   Flink Web UI: {handle.rest_url if handle else '-'}")
    return 0 if savepoint and restored and start > 1 else 1


def _wait_gauge(
    api: FlinkApi, job_id: str, name: str, *, minimum: float, pick_min: bool = False
) -> float:
    """A gauge of the counter operator over all subtasks (max, or min), once it is reported."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        vertices = api.job_details(job_id).vertices
        counter = next((v for v in vertices if v.name.startswith("counter")), None)
        if counter is not None:
            metrics = api.vertex_metrics(job_id, counter.vertex_id, [f"counter.{name}"])
            if metrics:
                value = metrics[0].min if pick_min else metrics[0].max
                if value >= minimum:
                    return value
        time.sleep(0.5)
    raise GitflinkError(f"the job did not report counter.{name} >= {minimum} within 60 s")
