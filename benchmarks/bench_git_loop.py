"""The Git loop at scale: 1,000 specs, 20,000 commits (made with `git fast-import`, cached per
machine in the temp dir), measured through the real pass: `run_pass` with a real GitSource,
one long-lived PassConfig (its ManifestReader) and the real file status
store (fsynced writes, parsed only when a file changed), against the simulated Flink world of
the tests with everything already deployed and running. Prints (a) a no-op pass next to
`git ls-remote` and a no-op `git fetch` measured in the same run, (b) a one-file-changed pass,
(c) agent RSS, (d) commit-to-plan latency via webhook, each with its baseline and ratio.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script (the RSS child): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fake_world import fake_world
from gitflink.adapters.git_source import GitSource
from gitflink.adapters.status_file import FileStatusStore
from gitflink.model.ids import Kind, ResourceId
from gitflink.ports import Ports
from gitflink.runtime.observing import observe
from gitflink.runtime.reconciler import PassConfig, PassResult, run_pass
from gitflink.runtime.settling import Settled
from gitflink.settings import Settings

SPECS, COMMITS = 1_000, 20_000
ROOT = Path(tempfile.gettempdir()) / f"gitflink-bench-git-v3-{SPECS}-{COMMITS}"
NOOP_BUDGET_MS, RSS_BUDGET_MIB, WEBHOOK_BUDGET_MS = 10.0, 120, 2000.0


def _spec(i: int, parallelism: int) -> bytes:
    return (
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
        f"metadata:\n  name: app-{i:04d}\n  namespace: bench\nspec:\n  flinkVersion: v1_20\n"
        "  flinkConfiguration:\n    state.checkpoints.dir: file:///flink/checkpoints\n"
        "    state.savepoints.dir: file:///flink/savepoints\n"
        "  jobManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        "  taskManager:\n    resource: {memory: 1024m, cpu: 1}\n"
        "  job:\n    jarURI: local:///opt/flink/examples/streaming/gitflink-testjob.jar\n"
        "    entryClass: gitflink.testjob.CounterJob\n    args: ['--rate', '10']\n"
        f"    parallelism: {parallelism}\n"
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


def _median_ms(action: Callable[[], object], repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


class PlanTimes:
    """A Progress that notes when each resource's first step starts: its plan exists then."""

    def __init__(self) -> None:
        self.first_step: dict[ResourceId, float] = {}

    def step(self, resource: ResourceId, text: str) -> None:
        self.first_step.setdefault(resource, time.perf_counter())

    def done(self, resource: ResourceId, text: str, *, ok: bool) -> None:
        return None


class Agent:
    """What `gitflink agent` runs each pass, against the simulated Flink world."""

    def __init__(self, url: str, cache: Path) -> None:
        self.world = fake_world()
        self.source = GitSource(url, cache_dir=cache)
        runtime = self.world.runtime
        self.store = FileStatusStore(cache / "data")
        self.ports = Ports(self.source, runtime, runtime.api, self.store, self.world.clock)
        self.plans = PlanTimes()
        # As `gitflink agent` runs it: a pass that finds Git unchanged since a converged pass
        # stops after fetching; running jobs are checked every drift interval (60 s).
        self.config = PassConfig(
            roots=("apps",),
            max_workers=4,
            progress=self.plans,
            settled=Settled(drift_interval=Settings.from_env({}).drift_interval_seconds),
        )
        # The drift check itself: the same caches, but observing and planning every time.
        self.drift_check = dataclasses.replace(self.config, settled=Settled())
        self.last: PassResult | None = None

    def __call__(self) -> None:
        self.last = run_pass(self.ports, self.config)
        if not self.last.ok:
            raise AssertionError(f"pass failed: {self.last.error or self.last.problems[:3]}")

    def check_drift(self) -> None:
        result = run_pass(self.ports, self.drift_check)
        if not result.ok or not result.observed:
            raise AssertionError(f"drift check failed: {result.error or result.problems[:3]}")

    @property
    def parses(self) -> int:
        return self.config.reader.parses

    def reads(self) -> Counter[str]:
        """Read-only Flink REST calls so far, over all simulated clusters."""
        total: Counter[str] = Counter()
        for api in self.world.runtime.apis.values():
            total.update(api.reads)
        return total


def _rss_child(url: str, cache: str) -> None:
    from gitflink.agent.loop import Loop
    from gitflink.agent.webhook import make_server

    agent = Agent(url, Path(cache))
    agent()  # deploys all SPECS into the simulated world
    agent()  # and a no-op pass, as the agent runs every interval
    loop = Loop(agent, interval=30)
    make_server(("127.0.0.1", 0), loop, None).server_close()
    gc.collect()
    print(_vm("VmHWM"), _vm("VmRSS"))


def _vm(field: str) -> int:
    """MiB from /proc/self/status. Not getrusage: Linux carries ru_maxrss over from the
    (larger) parent process across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) // 1024
    raise LookupError(field)


def _floor_child() -> None:
    """The same imports and nothing else: what any gitflink process costs."""
    import gitflink.agent.webhook  # noqa: F401

    print(_vm("VmHWM"))


def _line(label: str, value: float, unit: str, baseline: str, base: float) -> str:
    ratio = f"{value / base:.2f}x" if base else "-"
    return f"{label}: {value:.1f} {unit} | baseline {baseline} {base:.1f} {unit} (ratio {ratio})"


def run() -> bool:
    started = time.perf_counter()
    bare = generated_repo()
    print(
        f"git loop: {SPECS} specs, {COMMITS} commits ({ROOT}), ready in "
        f"{time.perf_counter() - started:.1f} s"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="gitflink-bench-") as tmp:
        work = Path(tmp)
        # The run pushes changes: push them to a copy (hard links) so the cache stays pristine.
        _git(work, "clone", "-q", "--mirror", str(bare), str(work / "remote.git"))
        url = (work / "remote.git").as_uri()
        agent = Agent(url, work / "cache")
        first = _median_ms(agent, repeat=1)
        print(
            f"  first pass: fetch, parse {agent.parses} specs, deploy all (simulated): "
            f"{first:.0f} ms"
        )

        clone = work / "plain"
        _git(work, "clone", "-q", "--depth=1", "--bare", url, str(clone))
        # Status files this fresh are re-read every pass (their timestamps cannot yet tell a
        # rewrite apart); an agent's next pass comes 30 s later. Then one pass fills the cache.
        time.sleep(2.5)
        agent()
        parses, status_parses, reads = agent.parses, agent.store.parses, agent.reads()
        noop = _median_ms(agent)
        quiet_reads = sum((agent.reads() - reads).values())
        drift = _median_ms(agent.check_drift)
        per_pass = {k: v // 15 for k, v in (agent.reads() - reads).items()}
        status_parses = agent.store.parses - status_parses
        fetch_only = _median_ms(agent.source.fetch)
        ls_remote = _median_ms(lambda: _git(work, "ls-remote", url, "refs/heads/main"))
        git_fetch = _median_ms(lambda: _git(clone, "fetch", "-q", "--depth=1", "origin", "main"))
        noop_parses = agent.parses - parses
        print(_line("(a) no-op pass", noop, "ms", "git ls-remote", ls_remote))
        print(
            f"    +{noop - ls_remote:.1f} ms over ls-remote (target +{NOOP_BUDGET_MS:.0f}); "
            f"{noop_parses} YAML parses (target 0); {quiet_reads} Flink REST reads; no-op git "
            f"fetch {git_fetch:.1f} ms (ratio {noop / git_fetch:.2f}x); of the pass, "
            f"GitSource.fetch {fetch_only:.1f} ms"
        )
        print(_line("(a2) drift check, Git unchanged", drift, "ms", "no-op pass", noop))
        print(
            f"    every {agent.config.settled.drift_interval:.0f} s: statuses + observing "
            f"{SPECS} resources (planned afresh) {drift - fetch_only:.1f} ms after the fetch"
        )
        statuses = dict(agent.store.load_all())
        revision = agent.source.fetch()  # unchanged: the reader answers from its last read
        manifests = agent.config.reader.read(agent.source, revision, agent.config.roots)
        resources = [d.resource for d in manifests.parsed.desired]
        load_ms = _median_ms(agent.store.load_all)
        observe_ms = _median_ms(lambda: observe(agent.ports, resources, statuses))
        print(
            f"    of the rest: loading {len(statuses)} statuses (a stat each) {load_ms:.1f} ms, "
            f"observing {len(resources)} clusters {observe_ms:.1f} ms, the remaining "
            f"{drift - fetch_only - load_ms - observe_ms:.1f} ms: planning, 1,000 NONE executions, "
            "the one status writer's reports, the garbage collector"
        )
        print(
            f"    per drift check: {status_parses / 15:.0f} status files parsed, Flink REST reads "
            f"{per_pass} (the simulated Flink answers in microseconds: real REST adds its "
            "round trips, one per cluster)"
        )
        ok &= noop - ls_remote <= NOOP_BUDGET_MS and noop_parses == 0

        dev = work / "dev"
        _git(work, "clone", "-q", "--depth=1", url, str(dev))
        _git(dev, "config", "user.email", "d@example.com")
        _git(dev, "config", "user.name", "Dev")

        def change(i: int) -> ResourceId:
            target = dev / "apps" / f"app-{i:04d}.yaml"
            target.write_bytes(target.read_bytes().replace(b"'10'", b"'11'", 1))
            _git(dev, "commit", "-qam", f"change {i}")
            _git(dev, "push", "-q", "origin", "HEAD:main")
            return ResourceId(Kind.FLINK_DEPLOYMENT, "bench", f"app-{i:04d}")

        samples, parses = [], agent.parses
        for i in range(1, 6):
            change(i)
            samples.append(_median_ms(agent, repeat=1))
        one = statistics.median(samples)
        print(_line("(b) one-file-changed pass", one, "ms", "no-op pass", noop))
        print(
            f"    {(agent.parses - parses) / len(samples):.0f} YAML parse(s) per pass; "
            f"includes the savepoint upgrade in the simulated world; first pass {first:.0f} ms"
        )

        def child(*args: str) -> list[int]:
            cmd = [sys.executable, __file__, *args]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            return [int(x) for x in out.split()]

        peak, steady = child("--rss", url, str(work / "rss-cache"))
        [floor] = child("--floor")
        print(_line(f"(c) agent max RSS at {SPECS} specs", peak, "MiB", "budget", RSS_BUDGET_MIB))
        print(
            f"    after the passes {steady} MiB; imports alone {floor} MiB; the agent figures "
            f"include the simulated Flink world ({SPECS} clusters, their jobs, a journal)"
        )
        ok &= peak <= RSS_BUDGET_MIB

        latency = _webhook_latency(agent, change)
        print(_line("(d) commit-to-plan via webhook", latency, "ms", "budget", WEBHOOK_BUDGET_MS))
        ok &= latency <= WEBHOOK_BUDGET_MS
    return ok


def _webhook_latency(agent: Agent, change: Callable[[int], ResourceId]) -> float:
    """From `git push` starting to the pass having planned the pushed change (its first step
    starts), woken by a webhook: the interval is an hour, so only the webhook can wake it."""
    import httpx

    from gitflink.agent.loop import Loop
    from gitflink.agent.webhook import make_server, serve_in_background
    from gitflink.settings import Secret

    loop = Loop(agent, interval=3600)
    server = make_server(("127.0.0.1", 0), loop, Secret("bench"))
    serve_in_background(server)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    samples = []
    try:
        while loop.passes == 0:
            time.sleep(0.005)
        for i in range(10, 15):
            agent.plans.first_step.clear()
            t0 = time.perf_counter()
            rid = change(i)
            hook = f"http://127.0.0.1:{server.server_port}/hooks/git"
            httpx.post(hook, headers={"X-Gitlab-Token": "bench"}).raise_for_status()
            while rid not in agent.plans.first_step:
                time.sleep(0.002)
            samples.append((agent.plans.first_step[rid] - t0) * 1000)
    finally:
        loop.stop()
        thread.join(30)
        server.shutdown()
        server.server_close()
    return statistics.median(samples)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rss"]:
        _rss_child(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--floor"]:
        _floor_child()
    else:
        sys.exit(0 if run() else 1)
