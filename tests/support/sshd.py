"""A real OpenSSH server for tests: `/usr/sbin/sshd` on 127.0.0.1 with a host key, a client key
and its own config in a tmp dir, serving repositories by absolute path (git-upload-pack)."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
# OpenSSH refuses to start as root without its privilege separation directory, which only
# an init system creates; a container has none.
PRIVSEP_DIR = Path("/run/sshd")


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    host_public_key: str  # "ssh-ed25519 AAAA..." (no comment)
    client_key: Path
    log: Path

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path.resolve()}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_public_key}\n"


def keygen(path: Path) -> str:
    """A new passphrase-less ed25519 key at `path`; returns its public half, comment dropped."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    kind, blob = path.with_suffix(".pub").read_text().split()[:2]
    return f"{kind} {blob}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(root: Path, port: int, host_key: Path, authorized: Path) -> str:
    return "\n".join(
        [
            "ListenAddress 127.0.0.1",
            f"Port {port}",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {root / 'sshd.pid'}",
            # The tmp dir's owner and modes are whatever pytest made them.
            "StrictModes no",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            f"AllowUsers {getpass.getuser()}",
            "LogLevel VERBOSE",
            "",
        ]
    )


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> bool:
    """True once sshd says it listens; False if it exited (e.g. the port was taken meanwhile)."""
    ready = f"Server listening on 127.0.0.1 port {port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ready in log.read_text(errors="replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    stop(process)
    raise RuntimeError(f"sshd did not listen on port {port}: {log.read_text()}")


def start(root: Path) -> tuple[SshServer, subprocess.Popen[bytes]]:
    """Starts sshd under `root` (created); the caller stops the returned process by its PID."""
    root.mkdir(parents=True, exist_ok=True)
    host_key, client_key = root / "host_ed25519", root / "client_ed25519"
    host_public = keygen(host_key)
    authorized = root / "authorized_keys"
    authorized.write_text(keygen(client_key) + "\n")
    config = root / "sshd_config"
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    log = root / "sshd.log"
    for _ in range(5):
        port = _free_port()
        config.write_text(_config(root, port, host_key, authorized))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        if _wait_listening(port, process, log):
            return SshServer(port, getpass.getuser(), host_public, client_key, log), process
    raise RuntimeError(f"sshd did not start: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stops this sshd by its PID (its per-connection children exit with their sessions)."""
    if process.poll() is None:
        os.kill(process.pid, 15)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, 9)
            process.wait()
