"""Example job jars, compiled from the Java sources in jobs/ with the machine's JDK at first use.

Cached by source hash and Flink major version, so an edit to the source rebuilds the jar.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from gitflink.adapters.local_runtime.installing import FlinkInstall, file_lock
from gitflink.model.errors import ClusterError

log = logging.getLogger(__name__)

SOURCES = Path(__file__).parent / "jobs"
EXAMPLE_JAR = "gitflink-testjob.jar"
EXAMPLE_MAIN = "gitflink.testjob.CounterJob"


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCES.rglob("*.java")):
        digest.update(str(path.relative_to(SOURCES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def job_dir(cache_dir: Path, install: FlinkInstall) -> Path:
    """Where the built example jars live; local:// jar URIs resolve here."""
    return cache_dir / "jobs" / f"{source_hash()}-flink{install.major_minor[0]}"


def build_example_jars(cache_dir: Path, install: FlinkInstall) -> Path:
    """Compile (once) and return the job directory holding gitflink-testjob.jar."""
    target = job_dir(cache_dir, install)
    if (target / EXAMPLE_JAR).is_file():
        return target
    with file_lock(cache_dir / "jobs" / ".build.lock"):
        if not (target / EXAMPLE_JAR).is_file():
            _compile(install, target)
    return target


def _compile(install: FlinkInstall, target: Path) -> None:
    if shutil.which("javac") is None or shutil.which("jar") is None:
        raise ClusterError("building the example job needs a JDK (javac and jar on PATH)")
    sources = [str(p) for p in sorted(SOURCES.rglob("*.java"))]
    log.info("compiling the example job against %s", install.dist_jar.name)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        work = Path(tmp)
        classes = work / "classes"
        manifest = work / "manifest.txt"
        manifest.write_text(f"Main-Class: {EXAMPLE_MAIN}\n")
        # --release 11: one jar runs on every Flink from 1.16 to 2.x.
        _run(
            ["javac", "--release", "11", "-cp", str(install.dist_jar), "-d", str(classes), *sources]
        )
        staged = work / "out"
        staged.mkdir()
        _run(["jar", "cfm", str(staged / EXAMPLE_JAR), str(manifest), "-C", str(classes), "."])
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")
