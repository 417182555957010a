"""The package as a user gets it: an sdist with what the tests read, a wheel built from it with
LICENSE and the sample repository, installed into a clean virtual environment."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from gitflink import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_sdist_then_wheel_installs_cleanly_with_license_and_sample_repo(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "setuptools>=77", cwd=tmp_path)
    build = (
        "import sys; from setuptools.build_meta import build_sdist; print(build_sdist(sys.argv[1]))"
    )
    sdist = (
        tmp_path / "dist" / run(python, "-c", build, tmp_path / "dist", cwd=ROOT).splitlines()[-1]
    )
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "sample-repo/streaming/orders.yaml",
        "tests/invalid/duplicate-resource.yaml",
        "tests/plugins/require_team_label.py",
        "schemas/flinkdeployment.json",
    ):
        assert needed in names, needed

    run(python, "-m", "pip", "install", "-q", sdist, cwd=tmp_path)  # builds the wheel from it
    assert run(venv / "bin" / "gitflink", "--version", cwd=tmp_path) == f"gitflink {__version__}"
    where = "from gitflink.cli.demo import sample_repo; print(sample_repo())"
    sample = Path(run(python, "-c", where, cwd=tmp_path))
    assert sample.is_relative_to(venv) and (sample / "streaming" / "orders.yaml").is_file()
    assert "valid: 6 resources" in run(venv / "bin" / "gitflink", "validate", sample, cwd=tmp_path)
    licenses = "import importlib.metadata as m; print([str(f) for f in m.files('gitflink')])"
    assert "gitflink-0.1.0.dist-info/licenses/LICENSE" in run(python, "-c", licenses, cwd=tmp_path)
