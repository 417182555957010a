"""Two real `gitflink agent` processes with leader election against the test bed's API server,
each as its own user (gitflink-agent-a, -b: the audit log tells them apart), following one
repository and writing one status branch.

What the leader writes on every pass: each revision the test pushes changes a manifest's
invalid upgrade mode, so its status (the error) changes and the leader commits it to the status
branch (author: the agent's name); and the Lease itself, renewed every 2 s. No Flink runs.
Proofs come from the Lease object (holder, acquireTime, renewTime), the API server's audit log
and the status branch, never from sleeping a fixed time."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import kubernetes.client as k8s
import pytest
from k8s_testbed.controlplane import ControlPlane
from k8s_testbed.fault_proxy import Fault, FaultProxy
from support.agents import AgentProcess, wait_for
from support.gitrepos import Remote, run_git

pytestmark = pytest.mark.k8s

LEASE = "gitflink"
WRITES = {"create", "update", "patch", "delete", "deletecollection"}
DURATION, RETRY = 15.0, 2.0
# The API round trips of one attempt (a read, then the write), on a loaded 2-core machine.
ROUND_TRIPS = 0.5


def manifest(revision: int) -> str:
    return (
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
        "metadata:\n  name: app\n  namespace: default\n"
        "spec:\n  flinkVersion: v1_20\n  job:\n    jarURI: local:///x.jar\n"
        f"    upgradeMode: savepoint-typo-{revision}\n"
    )


@dataclass
class Election:
    plane: ControlPlane
    namespace: str
    remote: Remote
    root: Path
    revision: int = 0  # of the manifest, in its upgrade mode: each one a new error

    def agent(self, index: int, server: str | None = None) -> AgentProcess:
        """Agent a (0) or b (1); `server`: the API server's address for it (a proxy)."""
        user = self.plane.agents[index]
        kubeconfig = self.plane.kubeconfig(user, self.root / f"{user.name}.kubeconfig")
        if server is not None:
            config = json.loads(kubeconfig.read_text())
            config["clusters"][0]["cluster"]["server"] = server
            kubeconfig.write_text(json.dumps(config))
        env = {
            "KUBECONFIG": str(kubeconfig),
            "GITFLINK_LEADER_ELECTION": "true",
            "GITFLINK_LEASE_NAME": LEASE,
            "GITFLINK_LEASE_NAMESPACE": self.namespace,
        }
        name = user.name.removeprefix("gitflink-")
        return AgentProcess(name, self.root / name, self.remote.url, env).start()

    def lease(self) -> k8s.V1LeaseSpec | None:
        with k8s.ApiClient(self.plane.configuration()) as api:
            try:
                found = k8s.CoordinationV1Api(api).read_namespaced_lease(LEASE, self.namespace)
            except k8s.ApiException as error:
                if error.status == 404:
                    return None
                raise
            spec: k8s.V1LeaseSpec = found.spec
            return spec

    def held_by(self, agent: AgentProcess) -> k8s.V1LeaseSpec | None:
        spec = self.lease()
        return spec if spec is not None and spec.holder_identity == agent.identity else None

    def push(self) -> str:
        self.revision += 1
        sha = self.remote.commit({"app.yaml": manifest(self.revision)}, f"rev {self.revision}")
        self.remote.push()
        return sha

    def status_commits(self) -> list[tuple[str, str]]:
        """(commit, author) of every commit on any status ref (branch and write-ahead refs)."""
        refs = run_git(self.remote.bare, "for-each-ref", "--format=%(refname)", "refs/")
        status = [r for r in refs.splitlines() if "gitflink" in r]
        if not status:
            return []
        log = run_git(self.remote.bare, "log", "--format=%H %an", *status)
        return [tuple(line.split(" ", 1)) for line in log.splitlines()]  # type: ignore[misc]

    def status_of(self, sha: str) -> str | None:
        """The author of the status commit recording revision `sha`, once there is one."""
        found = run_git(
            self.remote.bare, "log", "--format=%an", f"--grep=Gitflink-Revision: {sha}",
            "gitflink/status", "--",
        ) if "gitflink/status" in run_git(self.remote.bare, "branch") else ""  # fmt: skip
        return found.splitlines()[-1] if found else None

    def writes(self, user: str, since: datetime | None = None) -> list[dict[str, object]]:
        events = []
        for event in self.plane.audit_events():
            if event["user"]["username"] != user or event["verb"] not in WRITES:
                continue
            at = datetime.fromisoformat(event["requestReceivedTimestamp"].replace("Z", "+00:00"))
            if since is None or at >= since:
                events.append(event)
        return events


@pytest.fixture
def election(
    control_plane: ControlPlane, kube_api: k8s.ApiClient, namespace: str, tmp_path: Path
) -> Iterator[Election]:
    """The namespace's Lease may be read and written by both agents, nothing else."""
    rbac = k8s.RbacAuthorizationV1Api(kube_api)
    rule = k8s.V1PolicyRule(
        api_groups=["coordination.k8s.io"], resources=["leases"], verbs=["get", "create", "update"]
    )
    rbac.create_namespaced_role(
        namespace, k8s.V1Role(metadata=k8s.V1ObjectMeta(name="gitflink-leader"), rules=[rule])
    )
    subjects = [
        k8s.RbacV1Subject(kind="User", name=user.name, api_group="rbac.authorization.k8s.io")
        for user in control_plane.agents
    ]
    binding = k8s.V1RoleBinding(
        metadata=k8s.V1ObjectMeta(name="gitflink-leader"),
        role_ref=k8s.V1RoleRef(
            kind="Role", name="gitflink-leader", api_group="rbac.authorization.k8s.io"
        ),
        subjects=subjects,
    )
    rbac.create_namespaced_role_binding(namespace, binding)
    remote = Remote(tmp_path)
    world = Election(control_plane, namespace, remote, tmp_path)
    world.push()
    yield world


def start_pair(election: Election, proxy: str | None = None) -> tuple[AgentProcess, AgentProcess]:
    a = election.agent(0, proxy)
    wait_for(lambda: election.held_by(a), timeout=60, what="agent a to acquire the Lease")
    b = election.agent(1)
    wait_for(lambda: b.ready() and a.ready(), timeout=60, what="both agents to be ready")
    assert (a.metric("gitflink_leader"), b.metric("gitflink_leader")) == (1.0, 0.0)
    return a, b


def test_a_killed_leader_is_replaced_within_the_lease_duration_and_a_retry_period(
    election: Election,
) -> None:
    a, b = start_pair(election)
    try:
        sha = election.push()
        assert wait_for(lambda: election.status_of(sha), timeout=30, what=sha) == "agent-a"
        a.kill()
        last = election.lease()  # a's final renewal: it is dead, it cannot renew again
        assert last is not None and last.holder_identity == a.identity
        taken = wait_for(lambda: election.held_by(b), timeout=60, what="b to take over")
        silent = (taken.acquire_time - last.renew_time).total_seconds()
        # b waited out a whole lease duration of silence (safety), and took over at the first
        # attempt after it (client-go's bound: duration + one retry period).
        assert DURATION <= silent <= DURATION + RETRY + ROUND_TRIPS, silent
        assert taken.lease_transitions == 1 and taken.lease_duration_seconds == 15
        sha = election.push()
        assert wait_for(lambda: election.status_of(sha), timeout=30, what=sha) == "agent-b"
    finally:
        a.stop()
        assert b.stop() == 0
    released = election.lease()
    assert released is not None and not released.holder_identity  # b handed it over on SIGTERM


def test_a_leader_paused_past_its_lease_writes_nothing_when_it_wakes(
    election: Election, fault_proxy: FaultProxy
) -> None:
    """a reaches the API server through a proxy that, once a wakes, holds its Lease reads for
    8 s: a's election thread cannot learn it lost, so only the clock-based fence stands between
    a's passes (every second, with new revisions to record) and the status branch."""
    a, b = start_pair(election, fault_proxy.url)
    try:
        sha = election.push()
        assert wait_for(lambda: election.status_of(sha), timeout=30, what=sha) == "agent-a"
        assert election.writes("gitflink-agent-a")  # a writes: the Lease, every 2 s
        a.signal(signal.SIGSTOP)
        stopped = time.monotonic()
        # Revisions keep coming while a sleeps: a woken, unfenced a would record them too.
        while time.monotonic() < stopped + 30 or election.held_by(b) is None:
            election.push()
            time.sleep(1)
        known = {sha for sha, _ in election.status_commits()}
        fault_proxy.inject(Fault("GET", r"/leases/", delay=8.0, times=None))
        resumed = datetime.now(UTC)
        a.signal(signal.SIGCONT)
        wait_for(
            lambda: a.metric("gitflink_passes_total", 'result="standby"'),
            timeout=30,
            what="a's passes to stand by",
        )
        # Its election thread still waits for the Lease: the clock alone fenced the passes.
        assert a.metric("gitflink_leader") == 1.0
        fault_proxy.clear()
        for _ in range(5):  # a's woken loop sees five more revisions (and its due renewals)
            sha = election.push()
            time.sleep(1)
        assert wait_for(lambda: election.status_of(sha), timeout=30, what=sha) == "agent-b"
        assert a.process is not None and a.process.poll() is None  # alive, standing by
        assert a.ready() and a.metric("gitflink_leader") == 0.0
    finally:
        a.stop()
        b.stop()
    assert election.writes("gitflink-agent-a", since=resumed) == []
    assert election.writes("gitflink-agent-b", since=resumed)  # b went on writing meanwhile
    new = [(sha, author) for sha, author in election.status_commits() if sha not in known]
    assert new and {author for _, author in new} == {"agent-b"}, new
    assert "leader election: standby" in a.output()
