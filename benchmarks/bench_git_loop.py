"""The Git loop at scale: 1,000 specs, 20,000 commits (made with `git fast-import`, cached per
machine in the temp dir). Prints (a) a no-op pass next to `git ls-remote` and a no-op
`git fetch`, (b) a one-file-changed pass, (c) agent RSS, (d) commit-to-plan latency via webhook.

The pass measured here is the Git half of a reconcile pass (fetch, list blob ids, parse only
new blobs, plan); observing and executing need Flink and are measured elsewhere.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

SPECS, COMMITS = 1_000, 20_000
ROOT = Path(tempfile.gettempdir()) / f"gitflink-bench-git-{SPECS}-{COMMITS}"


def _spec(i: int, parallelism: int) -> bytes:
    return (
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
        f"metadata:\n  name: app-{i:04d}\nspec:\n  flinkVersion: v1_20\n"
        "  jobManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        "  taskManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        f"  job:\n    jarURI: local:///opt/job.jar\n    parallelism: {parallelism}\n"
        "    upgradeMode: savepoint\n"
    ).encode()


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    return done.stdout.decode().strip()


def generated_repo() -> Path:
    """A bare repo with SPECS manifests and COMMITS commits; built once, reused after."""
    bare = ROOT / "remote.git"
    if (ROOT / "done").exists():
        return bare
    _git(ROOT.parent, "init", "-q", "--bare", "--initial-branch=main", str(bare))
    stream: list[bytes] = []
    for n in range(1, COMMITS + 1):
        stream.append(b"commit refs/heads/main\nmark :%d\n" % n)
        stream.append(b"committer Bench <b@example.com> %d +0000\n" % (1_700_000_000 + n))
        stream.append(b"data 7\nchange\n")
        if n > 1:
            stream.append(b"from :%d\n" % (n - 1))
        touched = range(SPECS) if n == 1 else [n % SPECS]
        for i in touched:
            data = _spec(i, 1 + n // SPECS)
            stream.append(
                b"M 100644 inline apps/app-%04d.yaml\ndata %d\n%s\n" % (i, len(data), data)
            )
    _git(bare, "fast-import", "--quiet", stdin=b"".join(stream))
    (ROOT / "done").touch()
    return bare


def _timed(action: Callable[[], object], repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


class GitPass:
    """Fetch, blob ids, parse only (path, blob) pairs not seen before, plan."""

    def __init__(self, url: str, cache: Path) -> None:
        from gitflink.adapters.git_source import GitSource
        from gitflink.core import parsing

        self.source = GitSource(url, cache_dir=cache)
        self.parsing = parsing
        self.parsed: dict[tuple[str, str], parsing.ParseResult] = {}
        self.parses = 0
        self.last: str | None = None
        self.plans = 0

    def __call__(self) -> None:
        from gitflink.core import planning

        revision = self.source.fetch()
        if revision.sha == self.last:
            return  # nothing moved: no listing, no parsing (observed state aside)
        ids = self.source.blob_ids(revision, ["apps"])
        new = {(p, oid) for p, oid in ids.items()} - self.parsed.keys()
        blobs = self.source.read_blobs(oid for _, oid in new)
        for path, oid in new:
            self.parsed[(path, oid)] = self.parsing.parse_files({path: blobs[oid]})
            self.parses += 1
        current = {(p, oid) for p, oid in ids.items()}
        self.parsed = {k: v for k, v in self.parsed.items() if k in current}
        desired = [d for result in self.parsed.values() for d in result.desired]
        planning.plan_changes(desired, {}, head=revision.sha)
        self.plans += 1
        self.last = revision.sha


def _rss_child(url: str, cache: str) -> None:
    from gitflink.agent.loop import Loop
    from gitflink.agent.webhook import make_server

    git_pass = GitPass(url, Path(cache))
    git_pass()
    loop = Loop(git_pass, interval=30)
    make_server(("127.0.0.1", 0), loop, None).server_close()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def run() -> None:
    started = time.perf_counter()
    bare = generated_repo()
    print(
        f"git loop: repo with {SPECS} specs, {COMMITS} commits ready in "
        f"{time.perf_counter() - started:.1f} s ({ROOT})"
    )
    url = bare.as_uri()
    with tempfile.TemporaryDirectory(prefix="gitflink-bench-") as tmp:
        work = Path(tmp)
        git_pass = GitPass(url, work / "cache")
        first = _timed(git_pass, repeat=1)
        clone = work / "plain"
        _git(work, "clone", "-q", "--depth=1", "--bare", url, str(clone))
        git_pass.parses = 0
        noop = _timed(git_pass)
        ls_remote = _timed(lambda: _git(work, "ls-remote", url, "refs/heads/main"))
        fetch = _timed(lambda: _git(clone, "fetch", "-q", "--depth=1", "origin", "main"))
        print(f"  first pass (fetch + parse {SPECS} specs + plan): {first:.0f} ms")
        print(
            f"(a) no-op pass: {noop:.1f} ms, {git_pass.parses} YAML parses | baseline "
            f"git ls-remote {ls_remote:.1f} ms (+{noop - ls_remote:.1f} ms, target +10), "
            f"no-op git fetch {fetch:.1f} ms"
        )

        dev = work / "dev"
        _git(work, "clone", "-q", "--depth=1", url, str(dev))
        _git(dev, "config", "user.email", "d@example.com")
        _git(dev, "config", "user.name", "Dev")

        def change(i: int) -> float:
            target = dev / "apps" / f"app-{i:04d}.yaml"
            target.write_bytes(target.read_bytes().replace(b"cpu: 1}", b"cpu: 2}", 1))
            _git(dev, "commit", "-qam", f"change {i}")
            t0 = time.perf_counter()
            _git(dev, "push", "-q", "origin", "HEAD:main")
            return (time.perf_counter() - t0) * 1000

        change(1)
        git_pass.parses = 0
        one = _timed(git_pass, repeat=1)
        print(
            f"(b) one-file-changed pass: {one:.0f} ms, {git_pass.parses} YAML parse(s) | "
            f"baseline first full pass {first:.0f} ms"
        )

        rss = subprocess.run(
            [sys.executable, __file__, "--rss", url, str(work / "rss-cache")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ},
        ).stdout.strip()
        print(f"(c) agent RSS at {SPECS} specs: {rss} MiB (target <= 120)")
        print(
            f"(d) commit-to-plan via webhook: {_webhook_latency(git_pass, change):.0f} ms "
            "(target <= 2000)"
        )


def _webhook_latency(git_pass: GitPass, change: Callable[[int], float]) -> float:
    import httpx

    from gitflink.agent.loop import Loop
    from gitflink.agent.webhook import make_server, serve_in_background
    from gitflink.settings import Secret

    loop = Loop(git_pass, interval=3600)
    server = make_server(("127.0.0.1", 0), loop, Secret("bench"))
    serve_in_background(server)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    samples = []
    try:
        for i in range(2, 7):
            while loop.passes == 0:
                time.sleep(0.005)
            plans = git_pass.plans
            t0 = time.perf_counter()
            change(i)
            url = f"http://127.0.0.1:{server.server_port}/hooks/git"
            httpx.post(url, headers={"X-Gitlab-Token": "bench"})
            while git_pass.plans == plans:
                time.sleep(0.002)
            samples.append((time.perf_counter() - t0) * 1000)
    finally:
        loop.stop()
        thread.join(10)
        server.shutdown()
        server.server_close()
    return statistics.median(samples)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rss"]:
        _rss_child(sys.argv[2], sys.argv[3])
    else:
        run()
