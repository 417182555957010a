"""The container image (Dockerfile) without a Docker engine: parsed with Docker's own parser
(the `dockerfile` package wraps moby/buildkit's), its contract checked (non-root numeric user,
`ENTRYPOINT ["gitflink"]` and `CMD ["agent"]`, OCI labels, git and ssh, nothing of Flink), and
both stages replayed: the wheels built from exactly what the Dockerfile copies, installed into a
clean venv offline from them, the console script run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pathspec
import pytest

from gitflink import __version__

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = dockerfile.parse_file(str(ROOT / "Dockerfile"))
OCI_LABELS = ("title", "description", "version", "licenses")


def stages() -> list[list[dockerfile.Command]]:
    found: list[list[dockerfile.Command]] = []
    for command in COMMANDS:
        if command.cmd == "FROM":
            found.append([])
        if found:
            found[-1].append(command)
    return found


FINAL = stages()[-1]


def last(cmd: str) -> dockerfile.Command:
    return [c for c in FINAL if c.cmd == cmd][-1]


def copy_sources() -> list[str]:
    """Sources of every COPY from the build context (not `--from` another stage)."""
    return [
        source
        for c in COMMANDS
        if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags)
        for source in c.value[:-1]
    ]


def env_of(stage: list[dockerfile.Command]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in (c for c in stage if c.cmd == "ENV"):
        pairs = command.value
        env.update(zip(pairs[::2], pairs[1::2], strict=True))
    return env


def extras() -> str:
    """The EXTRAS build argument's default (declared before the first FROM)."""
    defaults = dict(
        c.value[0].partition("=")[::2] for c in COMMANDS if c.cmd == "ARG" and "=" in c.value[0]
    )
    return defaults["EXTRAS"]


def test_two_stages_on_slim_python() -> None:
    assert len(stages()) == 2
    arg = next(c for c in COMMANDS if c.cmd == "ARG")
    assert arg.value[0].startswith("PYTHON_IMAGE=python:3.11-slim")
    assert [s[0].value[0] for s in stages()] == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_the_user_is_numeric_and_not_root() -> None:
    user, _, group = last("USER").value[0].partition(":")
    assert user.isdigit() and int(user) > 0
    assert group.isdigit() and int(group) > 0
    # The data and cache directories are the user's and are volumes (read-only root works).
    env = env_of(FINAL)
    volumes = set(last("VOLUME").value)
    assert {env["GITFLINK_DATA_DIR"], env["GITFLINK_CACHE_DIR"]} == volumes
    chown = next(c.value[0] for c in FINAL if c.cmd == "RUN" and "chown" in c.value[0])
    assert f"chown {user}:{group} {env['GITFLINK_DATA_DIR']} {env['GITFLINK_CACHE_DIR']}" in chown


def test_entrypoint_is_the_console_script_and_the_agent_the_default() -> None:
    entrypoint, cmd = last("ENTRYPOINT"), last("CMD")
    assert entrypoint.json and entrypoint.value == ("gitflink",)
    assert cmd.json and cmd.value == ("agent",)
    assert "/opt/gitflink/bin" in env_of(FINAL)["PATH"].split(":")


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    ignored = pathspec.PathSpec.from_lines(
        "gitignore", (ROOT / ".dockerignore").read_text().splitlines()
    )
    sources = copy_sources()
    assert "gitflink" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored.match_file(source), f"{source} is excluded by .dockerignore"


def test_oci_labels_git_ssh_and_nothing_of_flink_or_dev() -> None:
    pairs = [v.strip('"') for v in last("LABEL").value]
    labels = dict(zip(pairs[::2], pairs[1::2], strict=True))
    for name in OCI_LABELS:
        assert labels.get(f"org.opencontainers.image.{name}"), name
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    runs = " ".join(c.value[0] for c in COMMANDS if c.cmd == "RUN")
    words = set(runs.lower().replace("\\", " ").split())
    assert {"git", "openssh-client"} <= words
    # Flink's wheel, a JDK or the dev extra would be in the RUN lines that install things.
    for absent in ("apache-flink", "pyflink", "openjdk", "jre", "jdk", "[dev]", "pytest"):
        assert not any(absent in word for word in words), absent


def test_both_stages_build_and_install_the_extras_of_the_build_argument() -> None:
    for stage in stages():
        assert any(c.cmd == "ARG" and c.value[0] == "EXTRAS" for c in stage)
        [pip] = [c.value[0] for c in stage if c.cmd == "RUN" and "pip " in c.value[0]]
        assert '${EXTRAS:+[$EXTRAS]}"' in pip, pip


@pytest.mark.slow
def test_both_stages_replayed_the_wheel_installs_offline_into_a_clean_venv(
    tmp_path: Path,
) -> None:
    # The build stage's context: only what the Dockerfile copies.
    context = tmp_path / "src"
    context.mkdir()
    for source in copy_sources():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, context / source)
    wheels = tmp_path / "wheels"
    assert extras() == "s3"  # the agent cleans JobResultStores on S3 (docs/kubernetes.md)
    wanted = f"[{extras()}]"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", wheels]
    run(*pip_wheel, f".{wanted}", cwd=context)
    # The final stage: a venv of its own, offline from those wheels.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip = [venv / "bin" / "pip", "install", "-q", "--no-index", "--find-links", wheels]
    run(*pip, f"gitflink{wanted}", cwd=tmp_path)
    assert run(venv / "bin" / "gitflink", "--version", cwd=tmp_path) == f"gitflink {__version__}"
    # fsspec, through which the runtime reaches HA storage, finds its S3 filesystem.
    s3 = "import fsspec; print(fsspec.get_filesystem_class('s3').__module__)"
    assert run(venv / "bin" / "python", "-c", s3, cwd=tmp_path).startswith("s3fs")
    script = "import importlib.metadata as m; print(m.entry_points(group='console_scripts'))"
    assert "name='gitflink', value='gitflink.cli:main'" in run(
        venv / "bin" / "python", "-c", script, cwd=tmp_path
    )
    installed = run(venv / "bin" / "pip", "list", "--format=freeze", cwd=tmp_path).lower()
    for absent in ("pytest", "ruff", "mypy", "apache-flink", "helm-python-sdk"):
        assert f"\n{absent}==" not in f"\n{installed}", absent


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()
