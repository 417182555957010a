"""Git over SSH against a real sshd: the key authenticates, known_hosts really decides which
host is trusted, and neither the key nor the user's own ssh setup leaks into the exchange."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import sshd
from support.gitrepos import Remote, run_git, spec

from gitflink import wiring
from gitflink.adapters.git_source import GitSource
from gitflink.adapters.git_source.access import GitCredentials, git_env
from gitflink.model.errors import SourceError
from gitflink.settings import Settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[sshd.SshServer]:
    if not sshd.SSHD.exists():
        message = "/usr/sbin/sshd is missing: `make ssh-server` installs openssh-server as root"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI runs as root, so it must be there")
        pytest.skip(f"{message} (or with password-less sudo); this machine has neither")
    running, process = sshd.start(tmp_path / "sshd")
    try:
        yield running
    finally:
        sshd.stop(process)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    remote = Remote(tmp_path)
    remote.commit({"apps/orders.yaml": spec("orders"), "README.md": "not a manifest\n"})
    remote.push()
    return remote


def _known_hosts(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(text)
    return path


def _source(tmp_path: Path, url: str, *, key: Path | None, known_hosts: Path | None) -> GitSource:
    settings = Settings(
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        git_ssh_key=key,
        git_known_hosts=known_hosts,
    )
    return wiring.remote_repository(settings, url, "main")


def _has_commit(source: GitSource, sha: str) -> bool:
    probe = subprocess.run(
        ["git", "-C", str(source.cache), "cat-file", "-e", f"{sha}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _assert_no_key_in(message: str, key: Path) -> None:
    assert str(key) not in message
    assert key.name not in message
    assert key.read_text().strip() not in message
    private_body = key.read_text().splitlines()[1]
    assert private_body not in message


def test_fetch_over_ssh_returns_the_pushed_commit_and_reads_its_manifests(
    server: sshd.SshServer, remote: Remote, tmp_path: Path
) -> None:
    known = _known_hosts(tmp_path, server.known_hosts_line())
    url = server.url(remote.bare)
    source = _source(tmp_path, url, key=server.client_key, known_hosts=known)

    revision = source.fetch()

    assert revision.sha == run_git(remote.work, "rev-parse", "HEAD")
    assert source.read_tree(revision, ["apps"]) == {"apps/orders.yaml": spec("orders").encode()}
    # The next push is followed over the same connection settings.
    newer = remote.commit({"apps/orders.yaml": spec("orders", parallelism=2)})
    remote.push()
    assert source.fetch().sha == newer
    assert "Accepted publickey" in server.log.read_text()


@pytest.mark.parametrize("case", ["host missing", "other host key"])
def test_a_host_key_not_in_known_hosts_is_refused_and_nothing_is_fetched(
    server: sshd.SshServer, remote: Remote, tmp_path: Path, case: str
) -> None:
    if case == "host missing":
        other = sshd.keygen(tmp_path / "elsewhere")
        text = f"[127.0.0.1]:{server.port + 1} {other}\ngit.example.com {other}\n"
    else:
        impostor = sshd.keygen(tmp_path / "impostor")
        text = f"[127.0.0.1]:{server.port} {impostor}\n"
    known = _known_hosts(tmp_path, text)
    source = _source(tmp_path, server.url(remote.bare), key=server.client_key, known_hosts=known)

    with pytest.raises(SourceError, match="Host key verification failed") as raised:
        source.fetch()

    assert not _has_commit(source, run_git(remote.work, "rev-parse", "HEAD"))
    # The client hung up before authenticating: the key was never offered to that host.
    assert "Accepted publickey" not in server.log.read_text()
    assert known.read_text() == text  # never "learned" the host either
    _assert_no_key_in(str(raised.value), server.client_key)


def test_without_the_key_the_server_refuses_and_fetch_raises(
    server: sshd.SshServer, remote: Remote, tmp_path: Path
) -> None:
    known = _known_hosts(tmp_path, server.known_hosts_line())
    source = _source(tmp_path, server.url(remote.bare), key=None, known_hosts=known)

    with pytest.raises(SourceError, match="Permission denied") as raised:
        source.fetch()

    assert not _has_commit(source, run_git(remote.work, "rev-parse", "HEAD"))
    _assert_no_key_in(str(raised.value), server.client_key)


def test_a_key_the_server_does_not_authorize_is_refused_without_naming_it(
    server: sshd.SshServer, remote: Remote, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_ed25519"
    sshd.keygen(stranger)
    known = _known_hosts(tmp_path, server.known_hosts_line())
    source = _source(tmp_path, server.url(remote.bare), key=stranger, known_hosts=known)

    with pytest.raises(SourceError, match="Permission denied") as raised:
        source.fetch()

    _assert_no_key_in(str(raised.value), stranger)


def test_an_unreadable_key_file_is_an_error_that_does_not_name_the_file(
    server: sshd.SshServer, remote: Remote, tmp_path: Path
) -> None:
    broken = tmp_path / "deploy_key"
    broken.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key-5f3a9c\n")
    known = _known_hosts(tmp_path, server.known_hosts_line())
    source = _source(tmp_path, server.url(remote.bare), key=broken, known_hosts=known)

    with pytest.raises(SourceError) as raised:
        source.fetch()

    _assert_no_key_in(str(raised.value), broken)


def test_ssh_reads_neither_the_users_ssh_config_nor_their_known_hosts(
    server: sshd.SshServer, tmp_path: Path
) -> None:
    known = _known_hosts(tmp_path, server.known_hosts_line())
    url = f"ssh://{server.user}@127.0.0.1:{server.port}/repo.git"
    credentials = GitCredentials(ssh_key=server.client_key, known_hosts=known)
    command = shlex.split(git_env(url, credentials)["GIT_SSH_COMMAND"])
    # The exact command git runs, made verbose: ssh logs every file it consults.
    login = [*command, "-v", "-p", str(server.port), f"{server.user}@127.0.0.1", "true"]

    done = subprocess.run(login, capture_output=True, text=True, timeout=10, check=False)

    assert done.returncode == 0, done.stderr
    read = [line for line in done.stderr.splitlines() if "configuration data" in line]
    assert read == ["debug1: Reading configuration data /dev/null"]
    home = Path.home() / ".ssh"
    assert str(home) not in done.stderr
    assert "/etc/ssh/ssh_known_hosts" not in done.stderr
    assert f"Found key in {known}:1" in done.stderr
