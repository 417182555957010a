"""The set-up a new user follows: `make demo` installs no system packages (only the SSH test
needs sshd, installed by the test targets), and README's Set up names what is needed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str) -> str:
    """The commands `make TARGET` would run, prerequisites included, without running them."""
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_demo_installs_no_system_package() -> None:
    commands = dry_run("demo")
    assert "gitflink demo" in commands
    assert "apt-get" not in commands and "sudo" not in commands and "sshd" not in commands


def test_the_test_targets_provide_sshd_for_the_ssh_test() -> None:
    for target in ("test", "test-fast"):
        assert "openssh-server" in dry_run(target), target


def test_readme_set_up_lists_the_real_requirements() -> None:
    readme = (ROOT / "README.md").read_text()
    set_up = readme[readme.index("## Set up") : readme.index("## Quickstart")]
    for needed in ("Python 3.11", "git", "JDK 17", "make test-fast", "PATH"):
        assert needed in set_up, needed
    minimum = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())
    assert minimum is not None and f"Python {minimum[1]}" in set_up
