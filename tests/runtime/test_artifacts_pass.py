"""Session-job jars in a pass on fakes: an https jar is fetched and uploaded; a jar the policy
refuses is never read, fetched or uploaded, whether validation or the executor catches it."""

from __future__ import annotations

from support.executor_plans import SESSION, SESSION_JOB, plan, run, session_cluster, session_job
from support.fakes import fake_world

from gitflink.model.errors import Next
from gitflink.model.plan import Action, StartCluster, SubmitJob
from gitflink.runtime.reconciler import PassConfig, run_pass

CLUSTER = b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: shared}
spec:
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
"""
JOB = """
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {{name: clicks}}
spec:
  deploymentName: shared
  job: {{jarURI: "{uri}", parallelism: 1}}
"""
SECRET = "file:///var/run/secrets/kubernetes.io/serviceaccount/token"


def files(uri: str) -> dict[str, bytes]:
    return {"cluster.yaml": CLUSTER, "job.yaml": JOB.format(uri=uri).encode()}


def test_an_https_jar_is_fetched_then_uploaded_to_the_session_cluster() -> None:
    uri = "https://repo.example.com/jobs/clicks-1.0.jar"
    world = fake_world(files(uri))
    result = run_pass(world.ports, PassConfig(max_workers=1))
    assert result.ok and not result.problems, (result.error, result.problems)
    assert world.journal.calls("artifacts") == ["fetch"]
    assert uri not in [e[2] for e in world.journal.events if e[:2] == ("runtime", "resolve_jar")]
    assert world.journal.index("artifacts", "fetch") < world.journal.index("flink", "upload_jar")
    assert world.runtime.api_for(SESSION).running_jobs()


def test_a_secret_file_named_as_a_jar_is_a_problem_and_never_touched() -> None:
    world = fake_world(files(SECRET))
    result = run_pass(world.ports, PassConfig(max_workers=1))
    assert any(
        p.field == "spec.job.jarURI" and "scheme 'file'" in p.message for p in result.problems
    )
    touched = [e for e in world.journal.events if SECRET in e]
    assert touched == [] and world.journal.calls("artifacts") == []


def test_the_executor_refuses_it_too_when_a_plan_names_it() -> None:
    """Defence in depth: a plan built without validation (a status, a plugin) still cannot make
    the agent read and upload a local file."""
    world = fake_world()
    cluster = run(
        world, plan(session_cluster(), Action.DEPLOY, StartCluster(SESSION), target=SESSION)
    )
    assert cluster.ok, cluster.error
    job = session_job()
    assert job.spec.job is not None
    thief = job.model_copy(
        update={
            "spec": job.spec.model_copy(
                update={"job": job.spec.job.model_copy(update={"jar_uri": SECRET})}
            )
        }
    )
    result = run(world, plan(thief, Action.DEPLOY, SubmitJob(SESSION_JOB), target=SESSION_JOB))
    assert not result.ok and result.error is not None
    assert "scheme 'file' is not allowed" in str(result.error)
    assert result.next is Next.STALL
    assert [e for e in world.journal.events if SECRET in e] == []
