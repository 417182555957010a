"""Build kube-apiserver, kube-controller-manager and etcd once into ~/.cache/gitflink/testbed/
(keyed by release and a hash of the Go module); `make testbed` or `binaries()` build as needed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

KUBERNETES_VERSION = "1.37.2"
ETCD_VERSION = "3.7.0"
MODULE_DIR = Path(__file__).resolve().parent / "go"
PROGRAMS = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "etcd": "./cmd/etcd",
}
# Two cores are shared with other work: build two packages at a time, at a lower priority.
BUILD_PARALLELISM = "2"
GO_INSTALL_DIR = "/usr/local/go/bin"


class GoMissingError(RuntimeError):
    """Go is not on PATH, so the control plane cannot be built."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitflink" / "testbed"


def module_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "cmd/etcd/main.go"):
        digest.update((MODULE_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def install_dir() -> Path:
    return cache_root() / f"v{KUBERNETES_VERSION}-etcd{ETCD_VERSION}-{module_hash()}"


def _is_complete(target: Path) -> bool:
    return (target / "build-info.json").is_file() and all(
        (target / name).is_file() for name in PROGRAMS
    )


def find_go(search_path: str | None = None) -> str:
    """The go command on PATH, or where Go's installer puts it (not always on PATH)."""
    path = os.environ.get("PATH", "") if search_path is None else search_path
    go = shutil.which(
        "go", path=f"{path}{os.pathsep}{GO_INSTALL_DIR}" if search_path is None else path
    )
    if go is None:
        raise GoMissingError(
            "Go is not installed or not on PATH: the Kubernetes test bed builds kube-apiserver, "
            "kube-controller-manager and etcd from Go modules (Go >= 1.26 and the Go module "
            "proxy are needed). Install Go, or deselect the test bed's tests with -m 'not k8s'."
        )
    return go


def build(log: TextIO = sys.stderr) -> Path:
    """Build into the cache unless a complete build for this module is there; return its dir."""
    target = install_dir()
    if _is_complete(target):
        return target
    go = find_go()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits for the first build, then reuses it
        if _is_complete(target):
            return target
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        print(
            f"building kube-apiserver/kube-controller-manager v{KUBERNETES_VERSION} and etcd "
            f"v{ETCD_VERSION} into {target} (first time only; several minutes on 2 cores)",
            file=log,
            flush=True,
        )
        started = time.monotonic()
        cmd = [
            *(["nice", "-n", "10"] if shutil.which("nice") else []),
            go,
            "build",
            "-p",
            BUILD_PARALLELISM,
            "-trimpath",
            "-ldflags=-s -w",
            "-o",
            str(staging) + "/",
            *PROGRAMS.values(),
        ]
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
        subprocess.run(cmd, cwd=MODULE_DIR, env=env, check=True)
        seconds = round(time.monotonic() - started, 1)
        info = {"kubernetes": KUBERNETES_VERSION, "etcd": ETCD_VERSION, "build_seconds": seconds}
        (staging / "build-info.json").write_text(json.dumps(info) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        print(f"test bed built in {seconds} s", file=log, flush=True)
    return target


def binaries() -> dict[str, Path]:
    target = build()
    return {name: target / name for name in PROGRAMS}


if __name__ == "__main__":
    try:
        print(build())
    except GoMissingError as error:
        raise SystemExit(str(error)) from None
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"test bed build failed: {error}") from None
