"""Logging as configured at the CLI edge: levels and formats from flags and environment, HTTP
requests quiet by default, and the agent's one line per resource at the end of a pass."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from support.gitrepos import Remote, run_git
from test_agent_cli import INVALID, free_port, status_file, wait_until

from gitflink.cli import build_parser, logs, main, options
from gitflink.settings import Settings


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving an empty directory."""
    handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        logs.configure(Settings.from_env({}))


def _configure(*argv: str) -> None:
    args = argparse_namespace(*argv)
    logs.configure(options.settings_from(args, Settings.from_env({})))


def argparse_namespace(*argv: str) -> argparse.Namespace:
    """The flags as the real parser reads them (before a harmless subcommand)."""
    return build_parser().parse_args([*argv, "completion", "bash"])


def test_http_requests_are_not_logged_unless_asked_for_with_vv(
    web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, shown in (((), False), (("-v",), False), (("-vv",), True)):
        _configure(*argv)
        httpx.get(web)
        logging.getLogger("gitflink.test").info("marker")
        err = capsys.readouterr().err
        assert ("HTTP Request: GET" in err) is shown, argv
        assert ("marker" in err) is True


def test_quiet_and_log_level_set_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, info_shown in ((("-q",), False), (("--log-level", "error"), False), ((), True)):
        _configure(*argv)
        logging.getLogger("gitflink.test").info("an info line")
        logging.getLogger("gitflink.test").error("an error line")
        err = capsys.readouterr().err
        assert ("an info line" in err) is info_shown, argv
        assert "an error line" in err
    logs.configure(Settings.from_env({}))


def test_json_format_is_one_object_a_line_with_the_extra_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _configure("--log-format", "json")
    logging.getLogger("gitflink.pass").warning(
        "x failed", extra={"resource": "FlinkDeployment/a/b", "outcome": "waiting"}
    )
    line = json.loads(capsys.readouterr().err)
    assert line["level"] == "WARNING"
    assert (line["logger"], line["message"]) == ("gitflink.pass", "x failed")
    assert (line["resource"], line["outcome"]) == ("FlinkDeployment/a/b", "waiting")
    assert "time" in line
    logs.configure(Settings.from_env({}))


def test_log_settings_come_from_the_environment_and_flags_win() -> None:
    env = {"GITFLINK_LOG_LEVEL": "warning", "GITFLINK_LOG_FORMAT": "json"}
    settings = Settings.from_env(env)
    assert (settings.log_level, settings.log_format) == ("WARNING", "json")
    args = argparse_namespace("--log-level", "debug", "--log-format", "console")
    overridden = options.settings_from(args, settings)
    assert (overridden.log_level, overridden.log_format) == ("DEBUG", "console")
    assert main(["--log-level", "INFO", "completion", "bash"]) == 0


def test_agent_with_an_unreachable_remote_keeps_retrying_and_logs_json_per_resource(
    tmp_path: Path,
) -> None:
    """The remote does not exist when the agent starts: it stays up, retries every interval,
    and once the remote appears reconciles it and logs the broken resource in its own line."""
    remote_root = tmp_path / "later"
    remote_root.mkdir()
    bare = remote_root / "remote.git"
    port = free_port()
    command = [sys.executable, "-m", "gitflink", "agent", "--repo", bare.as_uri()]
    command += ["--cache-dir", str(tmp_path / "cache"), "--data-dir", str(tmp_path / "data")]
    command += ["--listen", f"127.0.0.1:{port}", "--interval", "0.5", "--log-format", "json"]
    log_file = tmp_path / "agent.log"
    with log_file.open("w") as sink:
        agent = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=os.environ)
    try:
        wait_until(lambda: log_file.read_text().count("pass failed") >= 2)
        assert agent.poll() is None
        remote = Remote(remote_root)
        sha = remote.commit({"apps/bad.yaml": INVALID}, "add a broken app")
        remote.push()
        wait_until(lambda: "savepiont" in status_file(remote), timeout=30)  # pushed after the pass
        subject = run_git(remote.bare, "log", "-1", "--format=%s", "gitflink/status")
        assert subject == f"gitflink: default/bad invalid @ {sha[:7]}"
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    assert agent.returncode == 0
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(line["message"].startswith("pass failed") for line in lines)
    bad = next(line for line in lines if line.get("outcome") == "invalid")
    assert bad["resource"] == "FlinkDeployment/default/bad"
    assert bad["level"] == "WARNING"
    assert "savepiont" in bad["error"]
    assert not any("HTTP Request" in line["message"] for line in lines)
