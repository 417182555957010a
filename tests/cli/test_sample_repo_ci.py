"""The CI examples in sample-repo/ci run the plan as documented and post it as one comment.

The comment scripts are executed for real: the GitLab one against a local fake of the notes API,
the GitHub one in Node.js with a fake `github` client, as actions/github-script provides.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.gitrepos import run_git
from support.upstream_examples import load_yaml_documents

from gitflink.cli import build_parser

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
CI = SAMPLE / "ci"
MARKER = "<!-- gitflink-plan -->"


def github_workflow() -> dict[str, Any]:
    (workflow,) = load_yaml_documents(CI / "github-actions-plan.yml")
    assert isinstance(workflow, dict)
    return workflow


def gitlab_job() -> dict[str, Any]:
    (pipeline,) = load_yaml_documents(CI / "gitlab-ci-plan.yml")
    job: dict[str, Any] = pipeline["gitflink-plan"]
    return job


def plan_arguments(script: str) -> list[str]:
    """The arguments of the `gitflink plan` call in a shell script, redirections dropped."""
    (line,) = [ln for ln in script.replace("\\\n", " ").splitlines() if "gitflink plan" in ln]
    words = shlex.split(line[line.index("gitflink plan") :])
    return [w for w in words[2:] if w not in (">", "2>", "||") and not w.startswith("plan.")][:8]


def test_github_workflow_plans_the_pull_request_against_its_base() -> None:
    workflow = github_workflow()
    job = workflow["jobs"]["plan"]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert job["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    (plan,) = [s["run"] for s in job["steps"] if s.get("id") == "plan"]
    assert plan_arguments(plan) == [
        "--base", "$BASE_SHA", "--head", "$HEAD_SHA", "-o", "markdown", "--fail-on", "state-loss"
    ]  # fmt: skip
    # Pull-request data reaches scripts only through env, never by ${{ }} templating.
    assert not any("${{" in s.get("run", "") for s in job["steps"])


def test_gitlab_job_plans_the_merge_request_against_its_diff_base() -> None:
    job = gitlab_job()
    assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert job["variables"]["GIT_DEPTH"] == "0"
    script = "\n".join(job["script"])
    assert plan_arguments(script) == [
        "--base", "$CI_MERGE_REQUEST_DIFF_BASE_SHA", "--head", "$CI_COMMIT_SHA",
        "-o", "markdown", "--fail-on", "state-loss",
    ]  # fmt: skip
    assert job["script"][-1] == "exit $code"  # the plan's exit code decides the job


class NotesApi(BaseHTTPRequestHandler):
    """GitLab's merge request notes endpoint, just enough for the comment script."""

    notes: list[dict[str, Any]] = []
    calls: list[tuple[str, str, str | None, Any]] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append((self.command, self.path, self.headers.get("PRIVATE-TOKEN"), body))
        answer = json.dumps(self.notes if self.command == "GET" else {"id": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = _record  # noqa: N815 -- the names http.server dispatches to

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def notes_api() -> Iterator[tuple[str, type[NotesApi]]]:
    handler = type("Handler", (NotesApi,), {"notes": [], "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v4", handler
    server.shutdown()
    server.server_close()


def run_gitlab_comment(tmp_path: Path, api: str, plan_exit: str) -> None:
    (block,) = [s for s in gitlab_job()["script"] if "<<'PYTHON'" in s]
    code = block.split("\n", 1)[1].rsplit("PYTHON", 1)[0]
    (tmp_path / "plan.md").write_text(
        "| resource | action |\n|---|---|\n| streaming/orders | upgrade |\n"
    )
    (tmp_path / "plan.err").write_text("")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "7",
        "GITFLINK_GITLAB_TOKEN": "glpat-test",
        "PLAN_EXIT": plan_exit,
    }
    subprocess.run(
        [sys.executable, "-"], input=code, text=True, cwd=tmp_path, env=env, check=True, timeout=30
    )


def test_gitlab_comment_is_posted_once_then_updated_in_place(
    tmp_path: Path, notes_api: tuple[str, type[NotesApi]]
) -> None:
    api, handler = notes_api
    notes = "/api/v4/projects/42/merge_requests/7/notes"

    run_gitlab_comment(tmp_path, api, plan_exit="0")
    (listing, post) = handler.calls
    assert listing[0] == "GET" and listing[1].startswith(notes)
    assert post[:3] == ("POST", notes, "glpat-test")
    assert post[3]["body"].startswith(MARKER) and "streaming/orders | upgrade" in post[3]["body"]
    assert "loses Flink job state" not in post[3]["body"]

    handler.calls.clear()
    handler.notes.extend([{"id": 5, "body": "LGTM"}, {"id": 9, "body": f"{MARKER}\nold plan"}])
    run_gitlab_comment(tmp_path, api, plan_exit="3")
    (_, put) = handler.calls
    assert put[:2] == ("PUT", f"{notes}/9")
    assert "loses Flink job state" in put[3]["body"]


def run_github_script(tmp_path: Path, exit_code: str, existing: list[dict[str, Any]]) -> Any:
    (step,) = [
        s
        for s in github_workflow()["jobs"]["plan"]["steps"]
        if "github-script" in s.get("uses", "")
    ]
    script = step["with"]["script"].replace("${{ steps.plan.outputs.exit-code }}", exit_code)
    harness = f"""
    const calls = [];
    const github = {{
      paginate: async (method, args) => {{
        calls.push(['list', args]);
        return {json.dumps(existing)};
      }},
      rest: {{ issues: {{
        listComments: 'listComments',
        createComment: async (args) => calls.push(['create', args]),
        updateComment: async (args) => calls.push(['update', args]),
      }} }},
    }};
    const context = {{ repo: {{ owner: 'shop', repo: 'flink-jobs' }}, issue: {{ number: 12 }} }};
    (async () => {{ {script} }})().then(() => console.log(JSON.stringify(calls)));
    """
    (tmp_path / "plan.md").write_text("| streaming/clickstream | upgrade | stateless |\n")
    (tmp_path / "plan.err").write_text("warning: v1_17 is deprecated\n")
    env = {"PATH": os.environ.get("PATH", ""), "BASE_SHA": "a" * 40, "HEAD_SHA": "b" * 40}
    done = subprocess.run(
        ["node", "-e", harness],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,  # the assertion below shows Node's stderr
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_github_comment_is_created_with_the_plan_and_messages(tmp_path: Path) -> None:
    (listing, (action, args)) = run_github_script(tmp_path, "3", existing=[])
    assert listing == ["list", {"owner": "shop", "repo": "flink-jobs", "issue_number": 12}]
    assert action == "create" and args["issue_number"] == 12
    body = args["body"]
    assert body.startswith(MARKER)
    assert "loses Flink job state" in body
    assert "streaming/clickstream | upgrade" in body
    assert "v1_17 is deprecated" in body
    assert "aaaaaaa..bbbbbbb" in body


def test_github_comment_updates_the_previous_plan_comment(tmp_path: Path) -> None:
    existing = [{"id": 3, "body": "nice"}, {"id": 8, "body": f"{MARKER}\nold"}]
    (_, (action, args)) = run_github_script(tmp_path, "0", existing)
    assert action == "update" and args["comment_id"] == 8
    assert "loses Flink job state" not in args["body"]


@pytest.mark.parametrize("script", ["github", "gitlab"])
def test_plan_flags_in_the_ci_examples_are_accepted_by_gitflink(script: str) -> None:
    if script == "github":
        steps = github_workflow()["jobs"]["plan"]["steps"]
        (text,) = [s["run"] for s in steps if s.get("id") == "plan"]
    else:
        text = "\n".join(gitlab_job()["script"])
    args = build_parser().parse_args(["plan", *plan_arguments(text)])
    assert (args.output, args.fail_on) == ("markdown", "state-loss")


@pytest.fixture
def sample_history(tmp_path: Path) -> tuple[Path, str, str]:
    """A Git copy of sample-repo with one commit on top: clickstream (stateless) and orders
    (savepoint) both get an upgrade."""
    repo = tmp_path / "flink-jobs"
    shutil.copytree(SAMPLE, repo)
    run_git(repo, "init", "-q", "--initial-branch=main")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "sample")
    base = run_git(repo, "rev-parse", "HEAD")
    for name, old, new in [
        ("clickstream.yaml", '"--rate", "20"', '"--rate", "30"'),
        ("orders.yaml", "image: flink:1.20\n", "image: flink:1.20.1\n"),
    ]:
        path = repo / "streaming" / name
        path.write_text(path.read_text().replace(old, new, 1))
    run_git(repo, "commit", "-q", "-am", "upgrade clickstream and orders")
    return repo, base, run_git(repo, "rev-parse", "HEAD")


def run_shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env={"PATH": path, "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # callers assert on the exit code they expect
    )


@pytest.mark.slow
def test_github_plan_step_flags_a_stateless_upgrade_as_state_loss(
    sample_history: tuple[Path, str, str],
) -> None:
    repo, base, head = sample_history
    (step,) = [s for s in github_workflow()["jobs"]["plan"]["steps"] if s.get("id") == "plan"]
    outputs = repo.parent / "github-output"
    env = {"BASE_SHA": base, "HEAD_SHA": head, "GITHUB_OUTPUT": str(outputs)}
    done = run_shell(step["run"], repo, env)
    assert done.returncode == 0, done.stderr  # the step records the code; a later step fails
    assert outputs.read_text() == "exit-code=3\n"
    plan = (repo / "plan.md").read_text()
    assert "streaming/clickstream" in plan and "streaming/orders" in plan
    assert "stateless" in plan and "savepoint" in plan


@pytest.mark.slow
def test_gitlab_plan_script_exits_with_the_plan_code(
    sample_history: tuple[Path, str, str],
) -> None:
    repo, base, head = sample_history
    lines = [s for s in gitlab_job()["script"] if "PYTHON" not in s and "git fetch" not in s]
    env = {"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_COMMIT_SHA": head}
    done = run_shell("\n".join(lines), repo, env)
    assert done.returncode == 3, done.stderr
    assert "streaming/clickstream" in (repo / "plan.md").read_text()
    # Without the stateless change the plan passes.
    run_git(repo, "revert", "--no-edit", "HEAD")
    orders = repo / "streaming" / "orders.yaml"
    orders.write_text(orders.read_text().replace("image: flink:1.20\n", "image: flink:1.20.1\n"))
    run_git(repo, "commit", "-q", "-am", "upgrade orders only")
    env["CI_COMMIT_SHA"] = run_git(repo, "rev-parse", "HEAD")
    assert run_shell("\n".join(lines), repo, env).returncode == 0
