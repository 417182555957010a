"""Manifests and a pass helper shared by the runtime tests: an application in `streaming`, a
session cluster with one session job in `analytics`, all on the fakes."""

from __future__ import annotations

from gitflink.model.ids import Kind, ResourceId
from gitflink.runtime.reconciler import PassConfig, run_pass
from support.fakes import FakeWorld

ORDERS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")
CLICKS = ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "clicks")
SESSION = ResourceId(Kind.FLINK_DEPLOYMENT, "analytics", "session")
VIEWS = ResourceId(Kind.FLINK_SESSION_JOB, "analytics", "views")


def app(name: str, *, parallelism: int = 2, rate: int = 10, mode: str = "savepoint") -> bytes:
    return f"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {{name: {name}, namespace: streaming}}
spec:
  flinkVersion: v1_20
  jobManager: {{resource: {{memory: 1g}}}}
  taskManager: {{resource: {{memory: 1g}}}}
  flinkConfiguration:
    state.checkpoints.dir: file:///flink-data/checkpoints
    state.savepoints.dir: file:///flink-data/savepoints
  job:
    jarURI: local:///opt/flink/examples/streaming/gitflink-testjob.jar
    entryClass: gitflink.testjob.CounterJob
    args: ["--rate", "{rate}"]
    parallelism: {parallelism}
    upgradeMode: {mode}
""".encode()


SESSION_FILES = {
    "analytics/cluster.yaml": b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: session, namespace: analytics}
spec: {jobManager: {resource: {memory: 1g}}, taskManager: {resource: {memory: 1g}},
  flinkVersion: v1_20}
""",
    "analytics/views.yaml": b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: views, namespace: analytics}
spec:
  deploymentName: session
  job: {jarURI: local:///opt/flink/examples/streaming/gitflink-testjob.jar, parallelism: 1}
""",
}


def pass_ok(world: FakeWorld) -> None:
    result = run_pass(world.ports, PassConfig(max_workers=2))
    assert result.error is None
    for execution in result.executions:
        assert execution.ok, (execution.resource, execution.error)


SNAPSHOT = ResourceId(Kind.FLINK_STATE_SNAPSHOT, "streaming", "orders-sp")
SNAPSHOT_MANIFEST = b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkStateSnapshot
metadata: {name: orders-sp, namespace: streaming}
spec:
  jobReference: {kind: FlinkDeployment, name: orders}
  savepoint: {}
"""
