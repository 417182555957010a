"""Credentials reach the server and nowhere else; signed-commit verification with a real gpg."""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.gitrepos import Remote, run_git, spec

from gitflink.adapters.git_source import GitSource
from gitflink.adapters.git_source.access import GitCredentials, git_env, redact, split_url
from gitflink.model.errors import SignatureError, SourceError
from gitflink.settings import Secret

CANARY = "canary-tok-5f3a9c"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_remote() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/team/repo.git", _Recorder.seen
    server.shutdown()
    server.server_close()


def test_token_is_sent_as_header_and_absent_from_argv_errors_and_logs(
    http_remote: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, seen = http_remote
    trace = tmp_path / "trace"
    # GIT_TRACE makes every git process (and its helpers) log its argv: the `ps` view.
    monkeypatch.setenv("GIT_TRACE", str(trace))
    caplog.set_level(logging.DEBUG)
    src = GitSource(
        url, cache_dir=tmp_path / "cache", credentials=GitCredentials(token=Secret(CANARY))
    )
    with pytest.raises(SourceError) as raised:
        src.fetch()
    expected = base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()
    assert f"Basic {expected}" in seen
    assert CANARY not in str(raised.value)
    assert CANARY not in trace.read_text()
    assert expected not in trace.read_text()
    assert CANARY not in caplog.text
    assert CANARY not in (tmp_path / "cache" / "git").joinpath(src.cache.name, "config").read_text()


def test_password_in_url_moves_to_a_header(
    http_remote: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = http_remote
    with_userinfo = url.replace("http://", f"http://deploy:{CANARY}@")
    src = GitSource(with_userinfo, cache_dir=tmp_path / "cache")
    assert CANARY not in src.url
    with pytest.raises(SourceError) as raised:
        src.fetch()
    assert CANARY not in str(raised.value)
    expected = base64.b64encode(f"deploy:{CANARY}".encode()).decode()
    assert f"Basic {expected}" in seen


def test_header_is_scoped_to_the_repository_origin() -> None:
    env = git_env("https://git.example.com/a/b.git", GitCredentials(token=Secret(CANARY)))
    assert env["GIT_CONFIG_KEY_0"] == "http.https://git.example.com/.extraHeader"
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_ssh_checks_host_keys_against_the_given_known_hosts() -> None:
    creds = GitCredentials(ssh_key=Path("/keys/id_ed25519"), known_hosts=Path("/keys/known"))
    env = git_env("git@github.com:org/repo.git", creds)
    command = env["GIT_SSH_COMMAND"]
    assert "StrictHostKeyChecking=yes" in command
    assert "UserKnownHostsFile=/keys/known" in command
    assert "-i /keys/id_ed25519" in command
    assert "GIT_CONFIG_KEY_0" not in env


def test_redact_hides_userinfo_and_secret_values() -> None:
    creds = GitCredentials(token=Secret(CANARY))
    text = f"fatal: https://u:{CANARY}@host/x failed; token {CANARY}"
    assert CANARY not in redact(text, creds)
    assert split_url("ssh://git@host/x.git")[0] == "ssh://git@host/x.git"


# -- signed commits ------------------------------------------------------------------------

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg not installed")


def _make_key(home: Path, email: str) -> str:
    home.mkdir(mode=0o700)
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            email,
            "ed25519",
            "sign",
            "never",
        ],
        env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys", email],
        env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[tuple[Path, str, Path, str]]:
    trusted, stranger = tmp_path / "gpg-trusted", tmp_path / "gpg-stranger"
    fpr_trusted = _make_key(trusted, "ci@example.com")
    fpr_stranger = _make_key(stranger, "mallory@example.com")
    yield trusted, fpr_trusted, stranger, fpr_stranger
    for home in (trusted, stranger):
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"], check=False, env={"GNUPGHOME": str(home)}
        )


def _signed_commit(remote: Remote, home: Path, fpr: str, name: str) -> str:
    remote.commit({f"apps/{name}.yaml": spec(name)})
    run_git(
        remote.work,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        f"--gpg-sign={fpr}",
        env={"GNUPGHOME": str(home)},
    )
    remote.push(force=True)
    return run_git(remote.work, "rev-parse", "HEAD")


@needs_gpg
def test_only_commits_signed_by_a_trusted_key_are_accepted(
    tmp_path: Path, keys: tuple[Path, str, Path, str]
) -> None:
    trusted, fpr_trusted, stranger, fpr_stranger = keys
    remote = Remote(tmp_path)
    good = _signed_commit(remote, trusted, fpr_trusted, "a")
    src = GitSource(remote.url, cache_dir=tmp_path / "cache", verify_keyring=trusted)
    assert src.fetch().sha == good

    forged = _signed_commit(remote, stranger, fpr_stranger, "b")
    with pytest.raises(SignatureError, match=forged):
        src.fetch()

    unsigned = remote.commit({"apps/c.yaml": spec("c")})
    remote.push()
    with pytest.raises(SignatureError, match=unsigned):
        src.fetch()
