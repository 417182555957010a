"""Test helper, run as a script: one reconciliation pass that kills itself with SIGKILL just
before the status save whose message contains CRASH_AT (a write-ahead point).

usage: python tests/crash_pass.py STATUS_DIR RUNTIME_DIR REPO CRASH_AT
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from gitflink.adapters.git_source import LocalRepository
from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.status_file import FileStatusStore
from gitflink.adapters.system_clock import SystemClock
from gitflink.model.ids import ResourceId
from gitflink.model.status import ResourceStatus
from gitflink.ports import Ports
from gitflink.runtime.reconciler import run_pass
from gitflink.settings import Settings
from gitflink.wiring import RestClients


class KillingStore:
    def __init__(self, inner: FileStatusStore, crash_at: str) -> None:
        self.inner, self.crash_at = inner, crash_at

    def load_all(self) -> Mapping[ResourceId, ResourceStatus]:
        return self.inner.load_all()

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        return self.inner.load(resource)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        if self.crash_at in message:
            print(f"SIGKILL before saving: {message}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        self.inner.save(resource, status, message)

    def delete(self, resource: ResourceId, message: str) -> None:
        self.inner.delete(resource, message)


def main(status_dir: str, runtime_dir: str, repo: str, crash_at: str) -> int:
    runtime = LocalRuntime(Path(runtime_dir), Settings.from_env().cache_dir, ready_timeout=120.0)
    store = KillingStore(FileStatusStore(Path(status_dir)), crash_at)
    ports = Ports(LocalRepository(repo), runtime, RestClients(), store, SystemClock())
    result = run_pass(ports)
    print(f"no crash: the pass ended (ok={result.ok})", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
