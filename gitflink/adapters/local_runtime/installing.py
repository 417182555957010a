"""Flink distributions from PyPI, one per minor version, installed once into the cache.

`apache-flink-libraries` brings lib/ (the jars); `apache-flink --no-deps` brings bin/ and conf/.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitflink.model.errors import ClusterError
from gitflink.model.resources import FlinkVersion

log = logging.getLogger(__name__)

# The PyPI release used for each supported minor version. 2.x minors newer than the newest
# release on PyPI run on that newest release (2.3.0 when this was written).
PYPI_RELEASES: dict[FlinkVersion, str] = {
    FlinkVersion.V1_16: "1.16.3",
    FlinkVersion.V1_17: "1.17.2",
    FlinkVersion.V1_18: "1.18.1",
    FlinkVersion.V1_19: "1.19.3",
    FlinkVersion.V1_20: "1.20.5",
    FlinkVersion.V2_0: "2.0.2",
    FlinkVersion.V2_1: "2.1.3",
    FlinkVersion.V2_2: "2.2.1",
    FlinkVersion.V2_3: "2.3.0",
    FlinkVersion.V2_4: "2.3.0",
}
DEFAULT_VERSION = FlinkVersion.V1_20  # the LTS release, when a spec names no flinkVersion
INSTALL_TIMEOUT = 900.0


@dataclass(frozen=True, slots=True)
class FlinkInstall:
    home: Path  # laid out like a Flink distribution: bin/, conf/, lib/, plugins/
    version: str  # "1.20.5"

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def dist_jar(self) -> Path:
        jars = sorted((self.home / "lib").glob("flink-dist*.jar"))
        if not jars:
            raise ClusterError(f"{self.home}/lib has no flink-dist jar: not a Flink distribution")
        return jars[0]

    def classpath(self) -> str:
        """lib/*.jar with flink-dist last, as bin/config.sh builds it."""
        jars = sorted(p for p in (self.home / "lib").glob("*.jar") if p != self.dist_jar)
        return os.pathsep.join(str(p) for p in [*jars, self.dist_jar])


def pypi_release(version: FlinkVersion | None) -> str:
    wanted = version or DEFAULT_VERSION
    release = PYPI_RELEASES.get(wanted)
    if release is None:
        supported = ", ".join(v.value for v in PYPI_RELEASES)
        raise ClusterError(
            f"flinkVersion {wanted.value} cannot run locally (supported: {supported})"
        )
    if not release.startswith(f"{wanted.major_minor[0]}.{wanted.major_minor[1]}."):
        log.info("flinkVersion %s runs on Flink %s, the newest on PyPI", wanted.value, release)
    return release


def installed_version(home: Path) -> str:
    """The version of a Flink distribution, read from its flink-dist jar name."""
    for jar in (home / "lib").glob("flink-dist*.jar"):
        match = re.search(r"flink-dist[-_\w]*?-(\d+\.\d+(?:\.\d+)?)", jar.name)
        if match:
            return match.group(1)
    raise ClusterError(f"{home}: no lib/flink-dist-<version>.jar; is this a Flink distribution?")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across processes (flock), held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def flink_install(
    cache_dir: Path, version: FlinkVersion | None, flink_home: Path | None = None
) -> FlinkInstall:
    """The Flink to run `version` with: FLINK_HOME if set, else a cached PyPI install."""
    if flink_home is not None:
        return FlinkInstall(home=flink_home, version=installed_version(flink_home))
    release = pypi_release(version)
    root = cache_dir / "flink"
    target = root / release
    if not (target / "pyflink" / "lib").is_dir():
        with file_lock(root / f".{release}.lock"):
            if not (target / "pyflink" / "lib").is_dir():  # another process may have won
                _pip_install(release, root, target)
    return FlinkInstall(home=target / "pyflink", version=release)


def any_install(cache_dir: Path) -> FlinkInstall:
    """An installed Flink, preferring the default release, then 1.x; else install the default."""
    lib_dirs = (cache_dir / "flink").glob("*/pyflink/lib")
    installed = [p.parent.parent.name for p in lib_dirs if not p.parent.parent.name.startswith(".")]
    default = PYPI_RELEASES[DEFAULT_VERSION]
    ranked = sorted(installed, key=lambda r: (r != default, not r.startswith("1."), r))
    if ranked:
        return FlinkInstall(home=cache_dir / "flink" / ranked[0] / "pyflink", version=ranked[0])
    return flink_install(cache_dir, DEFAULT_VERSION)


def _pip_install(release: str, root: Path, target: Path) -> None:
    partial = root / f".{release}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",  # apache-flink's dependencies (beam, pandas, ...) are not needed
        "--target",
        str(partial),
        f"apache-flink=={release}",
        f"apache-flink-libraries=={release}",
    ]
    log.info("installing Flink %s from PyPI into %s", release, target)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ClusterError(
            f"installing Flink {release} took over {INSTALL_TIMEOUT:.0f} s"
        ) from error
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise ClusterError(f"pip could not install Flink {release}: {tail}")
    for script in (partial / "pyflink" / "bin").glob("*"):
        script.chmod(script.stat().st_mode | 0o111)
    # A rename is atomic: a reader sees either no install or a complete one.
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
