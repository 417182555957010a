"""How git subprocesses authenticate: credentials travel in the child's environment (an
`http.<origin>.extraHeader` config entry, or GIT_SSH_COMMAND), never in a URL or on argv."""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from gitflink.settings import Secret

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?[\w.-]+:(?!//)")
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


@dataclass(frozen=True)
class GitCredentials:
    """HTTPS token or basic auth, or an SSH key checked against a known_hosts file."""

    token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ssh_key: Path | None = None
    known_hosts: Path | None = None

    def merged(self, other: GitCredentials) -> GitCredentials:
        """These credentials, with gaps filled from `other` (e.g. userinfo found in a URL)."""
        return replace(
            self,
            username=self.username or other.username,
            password=self.password or other.password,
        )

    def secrets(self) -> list[str]:
        values = [s.reveal() for s in (self.token, self.password) if s is not None]
        return [v for v in values if v]


def is_ssh(url: str) -> bool:
    return url.startswith("ssh://") or bool(_SCP_LIKE.match(url))


def is_remote(url: str) -> bool:
    """A URL (`https://`, `ssh://`, `file://`, `git@host:path`) rather than a local path."""
    return "://" in url or bool(_SCP_LIKE.match(url))


def split_url(url: str) -> tuple[str, GitCredentials]:
    """(url without userinfo secrets, credentials found in it). Local paths become file://
    URLs so that shallow fetches work (git ignores --depth for plain local paths)."""
    if not is_remote(url):
        return Path(url).expanduser().resolve().as_uri(), GitCredentials()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.password is None:
        return url, GitCredentials()
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    username = unquote(parts.username) if parts.username else None
    found = GitCredentials(username=username, password=Secret(unquote(parts.password)))
    return urlunsplit(parts._replace(netloc=netloc)), found


def git_env(url: str, credentials: GitCredentials) -> dict[str, str]:
    """Environment for git subprocesses talking to `url`. Never prompts: a missing credential
    is an error, not a hung agent."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true"}
    if is_ssh(url):
        # -F /dev/null: the user's and the system's ssh_config cannot add hosts, keys or
        # proxies behind our back; with a known_hosts file it is the only one trusted.
        command = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes"]
        command += ["-o", "StrictHostKeyChecking=yes"]
        if credentials.known_hosts is not None:
            command += ["-o", f"UserKnownHostsFile={credentials.known_hosts}"]
            command += ["-o", "GlobalKnownHostsFile=/dev/null"]
        if credentials.ssh_key is not None:
            command += ["-i", str(credentials.ssh_key), "-o", "IdentitiesOnly=yes"]
        env["GIT_SSH_COMMAND"] = shlex.join(command)
        return env
    parts = urlsplit(url)
    secret = credentials.token or credentials.password
    if parts.scheme in ("http", "https") and secret is not None:
        user = credentials.username or "x-access-token"
        pair = base64.b64encode(f"{user}:{secret.reveal()}".encode()).decode()
        # Scoped to this origin so a redirect to another host never receives the header.
        origin = f"{parts.scheme}://{parts.netloc}/"
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0=f"http.{origin}.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Basic {pair}",
        )
    return env


def redact(text: str, credentials: GitCredentials | None = None) -> str:
    """`text` without URL userinfo or any credential value (raw or base64-wrapped)."""
    text = _USERINFO.sub(r"\1", text)
    if credentials is not None and credentials.ssh_key is not None:
        # ssh names the key file when it cannot use it; where the key lives is not for logs.
        text = text.replace(str(credentials.ssh_key), "<ssh key>")
    if credentials is not None:
        for value in credentials.secrets():
            text = text.replace(value, "******")
            text = text.replace(base64.b64encode(value.encode()).decode(), "******")
    return text
