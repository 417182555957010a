"""StatusStore on a dedicated Git branch (default `gitflink/status`): one YAML document per
resource, one commit per pass, pushed with fetch-and-reapply on conflicts, never forced.

Durability: every `save` is first written as a local journal commit (fsynced) before it returns;
a save recording a change in flight (`pending`, the write-ahead entry for a destructive step) is
also pushed before it returns, to the write-ahead ref `refs/gitflink/wal/<branch>` beside the
branch. `flush()` pushes everything saved in the pass as one commit on the branch and drops the
write-ahead ref, so the branch reads one commit per pass. A journal left by a crash, or a
write-ahead ref left by a lost machine, is pushed on the next start.
`load_all` parses a document only when its bytes (its blob) changed since it last parsed it; a
document it cannot parse, or a file under status/ that names no valid resource, is reported in
its result (`StatusLoad.corrupt`) by path, never raised and never silently dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import git

from gitflink.adapters.status_git import documents
from gitflink.model.errors import StatusWriteError
from gitflink.model.ids import ResourceId
from gitflink.model.secrets import hide_in_text
from gitflink.model.status import ResourceStatus
from gitflink.model.status_load import CorruptStatus, StatusLoad
from gitflink.ports import NULL_METER, Meter

JOURNAL = "refs/gitflink/journal"
WAL = "refs/gitflink/wal"  # the local copy of the remote write-ahead ref
BASE_TRAILER = "Gitflink-Base: "  # on write-ahead commits: the branch tip they extend
_REJECTED = ("non-fast-forward", "fetch first", "rejected", "stale info", "cannot lock ref")


class GitStatusStore:
    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path,
        branch: str = "gitflink/status",
        env: Mapping[str, str] | None = None,
        author: tuple[str, str] = ("gitflink", "gitflink@localhost"),
        push_attempts: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        meter: Meter = NULL_METER,
    ) -> None:
        self.url, self.branch = url, branch
        self._meter = meter
        self.cache = (
            cache_dir / "status" / hashlib.sha256(f"{url}#{branch}".encode()).hexdigest()[:16]
        )
        name, email = author
        self._env = {
            **(env or {}),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_INDEX_FILE": str(self.cache / "gitflink-index"),
            "GIT_DIR": str(self.cache),
        }
        self._attempts, self._sleep = push_attempts, sleep
        self._lock = threading.RLock()
        self._base: str | None = None  # the remote tip our view is built on
        self._files: dict[str, bytes] = {}  # documents at _base
        self._pending: dict[str, bytes | None] = {}  # saved, not yet on the remote
        self._changes: dict[ResourceId, documents.Change] = {}
        # path -> (document bytes, vault size, parsed): equal bytes are the same blob. A larger
        # vault may restore fingerprints that could not be restored before.
        self._parsed: dict[str, tuple[bytes, ResourceStatus]] = {}
        self.parses = 0  # documents parsed by load_all since creation: tests read it
        self.wal_ref = f"refs/gitflink/wal/{branch}"  # on the remote
        self._wal_tip: str | None = None  # the write-ahead commit last pushed in this pass
        self._repo = self._open()
        self._recover()

    # -- git plumbing ---------------------------------------------------------------------

    def _open(self) -> git.Repo:
        if (self.cache / "HEAD").exists():
            return git.Repo(self.cache)
        self.cache.mkdir(parents=True, exist_ok=True)
        repo = git.Repo.init(self.cache, bare=True)
        with repo.config_writer() as config:
            config.set_value("core", "fsync", "committed")
        return repo

    def _git(self, *args: str, stdin: bytes | str | None = None) -> str:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        try:
            done = subprocess.run(
                ["git", *args],
                input=data,
                env={**os.environ, **self._env},
                capture_output=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StatusWriteError(
                f"git {args[0]} (status branch {self.branch}) timed out"
            ) from None
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()
            raise StatusWriteError(f"git {args[0]} (status branch {self.branch}): {stderr}")
        return done.stdout.decode().strip()

    def _fetch(self) -> None:
        """Bring `_base` and `_files` to the remote tip (the branch may not exist yet)."""
        heads = self._git("ls-remote", self.url, f"refs/heads/{self.branch}")
        if not heads:
            self._base, self._files = None, {}
            return
        self._git(
            "fetch",
            "--no-tags",
            "--force",
            self.url,
            f"+refs/heads/{self.branch}:refs/gitflink/base",
        )
        tip = self._git("rev-parse", "refs/gitflink/base")
        if tip != self._base:
            before, self._base, self._files = self._files, tip, self._read_tree(tip)
            # Another writer changed documents we have saves of: keep what it requested.
            self._pending = documents.keep_requests(before, self._files, self._pending)

    def _read_tree(self, commit: str) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        out = self._git("ls-tree", "-r", "-z", commit, "--", documents.ROOT)
        for entry in filter(None, out.split("\0")):
            meta, _, path = entry.partition("\t")
            files[path] = self._repo.odb.stream(bytes.fromhex(meta.split()[2])).read()
        return files

    def _commit(self, parent: str | None, message: str) -> str:
        """A commit of `_files` at `parent` plus `_pending`, written without a checkout."""
        self._git("read-tree", parent or "--empty")
        lines = []
        for path, data in self._pending.items():
            if data is None:
                lines.append(f"0 {'0' * 40}\t{path}")
            else:
                oid = self._git("hash-object", "-w", "--stdin", stdin=data)
                lines.append(f"100644 {oid}\t{path}")
        self._git("update-index", "--index-info", stdin="\n".join(lines) + "\n")
        tree = self._git("write-tree")
        parents = ["-p", parent] if parent else []
        return self._git("commit-tree", tree, *parents, "-F", "-", stdin=message)

    def _recover(self) -> None:
        """Load the remote branch, then re-apply what a lost machine left on the write-ahead
        ref and a journal that a crash left unpushed."""
        self._fetch()
        self._recover_wal()
        try:
            journal = self._git("rev-parse", "--verify", "-q", JOURNAL)
        except StatusWriteError:
            return
        parent = self._git("rev-parse", f"{journal}^@") or None
        diff = self._git("diff-tree", "-r", "-z", "--no-commit-id", parent or "--root", journal)
        fields = diff.split("\0")
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            if not meta.startswith(":") or not path.startswith(documents.ROOT):
                continue
            new_oid, status = meta.split()[3], meta.split()[4]
            self._pending[path] = (
                None if status == "D" else self._repo.odb.stream(bytes.fromhex(new_oid)).read()
            )
        # A crash between push and journal removal leaves a journal already on the remote.
        self._pending = {p: d for p, d in self._pending.items() if self._files.get(p) != d}
        subject = self._repo.commit(journal).message
        for path in self._pending:
            resource = documents.resource_of(path)
            if resource is not None:
                self._changes[resource] = documents.Change(
                    resource, "recovered", None, None, str(subject).splitlines()[0], applied=False
                )
        self.flush()

    def _recover_wal(self) -> None:
        """A write-ahead ref that extends the current tip holds saves of a pass that never
        flushed (its machine was lost): they are pending again. One built on an older tip was
        superseded by a flush (or the branch moved on), and is dropped."""
        if not self._git("ls-remote", self.url, self.wal_ref):
            return
        self._git("fetch", "--no-tags", "--force", self.url, f"+{self.wal_ref}:{WAL}")
        tip = self._git("rev-parse", WAL)
        message = str(self._repo.commit(tip).message)
        base = next(
            (
                line[len(BASE_TRAILER) :]
                for line in message.splitlines()
                if line.startswith(BASE_TRAILER)
            ),
            None,
        )
        if base != (self._base or "none"):
            self._drop_wal()
            return
        saved = self._read_tree(tip)
        for path in {*saved, *self._files}:
            if saved.get(path) != self._files.get(path):
                self._pending[path] = saved.get(path)
                resource = documents.resource_of(path)
                if resource is not None:
                    subject = message.splitlines()[0]
                    self._changes[resource] = documents.Change(
                        resource, "recovered", None, None, subject, applied=False
                    )
        self._wal_tip = tip
        self.flush()

    def _push_wal(self) -> None:
        """The write-ahead entry on the remote before `save` returns, beside the branch: each
        commit extends the previous one of the pass (no force needed)."""
        message = documents.commit_message(list(self._changes.values()))
        message += f"\n\n{BASE_TRAILER}{self._base or 'none'}\n"
        commit = self._commit(self._wal_tip or self._base, message)
        self._git("push", "--porcelain", self.url, f"{commit}:{self.wal_ref}")
        self._wal_tip = commit

    def _drop_wal(self) -> None:
        """Best effort: a ref left behind is built on an older tip and ignored on recovery."""
        with contextlib.suppress(StatusWriteError):
            self._git("push", "--porcelain", self.url, f":{self.wal_ref}")
        self._wal_tip = None

    # -- StatusStore ----------------------------------------------------------------------

    @property
    def branch_exists(self) -> bool:
        """Whether the status branch was on the remote when last fetched, or has saves queued."""
        with self._lock:
            return self._base is not None or bool(self._pending)

    def load_all(self) -> StatusLoad:
        """Unchanged documents give the objects returned before: mutate one only to save it."""
        with self._lock:
            merged = {**self._files, **self._pending}
            statuses = {}
            corrupt: list[CorruptStatus] = []
            parsed: dict[str, tuple[bytes, ResourceStatus]] = {}
            for path, data in sorted(merged.items()):
                if data is None:
                    continue
                resource = documents.resource_of(path)
                if resource is None:
                    reason = "not the path of a valid resource's status document"
                    corrupt.append(CorruptStatus(path, reason))
                    continue
                known = self._parsed.get(path)
                if known is not None and known[0] == data:
                    status = known[1]
                else:
                    self.parses += 1
                    try:
                        status = documents.load(data)
                    except documents.Unreadable as error:
                        corrupt.append(CorruptStatus(path, str(error), resource))
                        continue
                parsed[path] = (data, status)
                statuses[resource] = status
            self._parsed = parsed
            return StatusLoad(statuses, corrupt)

    def load(self, resource: ResourceId) -> ResourceStatus | None:
        path = documents.path_of(resource)
        with self._lock:
            data = self._pending[path] if path in self._pending else self._files.get(path)
            return None if data is None else documents.load(data)

    def save(self, resource: ResourceId, status: ResourceStatus, message: str) -> None:
        # Unchanged (a resumed change saving its intent again): it is on the remote already.
        if self._stage(resource, status, message) and status.pending is not None:
            with self._lock:  # a write-ahead entry must survive losing this machine
                self._push_wal()

    def delete(self, resource: ResourceId, message: str) -> None:
        self._stage(resource, None, message)
        self.flush()

    def refresh(self) -> bool:
        """See what other writers pushed (readers such as `gitflink status`; the agent before
        each pass, for rollbacks requested meanwhile). True when the branch had moved."""
        with self._lock:
            known = self._base
            self._fetch()
            return self._base != known

    def update(
        self,
        resource: ResourceId,
        change: Callable[[ResourceStatus | None], ResourceStatus],
        message: str,
    ) -> None:
        """Read, change and write one document with optimistic locking, as one commit whose
        subject is `gitflink: MESSAGE`: `change` gets the status at the remote tip; a push
        the branch moved under is retried from the new tip, calling `change` again. For
        another writer than the agent (`gitflink rollback`); raises what `change` raises."""
        with self._lock:
            if self._pending:
                raise StatusWriteError(f"status branch {self.branch}: saves not pushed yet")
            for attempt in range(self._attempts):
                self._fetch()
                if not self._stage(resource, change(self.load(resource)), message):
                    return
                subject = hide_in_text(f"gitflink: {message}", lambda _: "******")
                commit = self._commit(self._base, f"{subject}\n")
                try:
                    self._git("push", "--porcelain", self.url, f"{commit}:refs/heads/{self.branch}")
                except StatusWriteError as error:
                    self.discard()
                    if not any(word in str(error) for word in _REJECTED):
                        raise
                    self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
                    continue
                self._pushed(commit)
                return
            raise StatusWriteError(
                f"status branch {self.branch}: push rejected {self._attempts} times"
            )

    def _stage(self, resource: ResourceId, status: ResourceStatus | None, message: str) -> bool:
        """Queue the document (journalled); False when it is what is stored already."""
        path = documents.path_of(resource)
        with self._lock:
            # The caller may have changed an object load_all shared: parse it afresh next time,
            # also when this save fails.
            self._parsed.pop(path, None)
            before = self.load(resource)
            data = None if status is None else documents.dump(status)
            current = self._pending[path] if path in self._pending else self._files.get(path)
            if data == current:
                return False  # nothing changed: no commit
            self._pending[path] = data
            change = documents.describe(resource, before, status, message)
            previous = self._changes.get(resource)
            if previous is None or change.applied or not previous.applied:
                self._changes[resource] = change
            journal = self._commit(
                self._base, documents.commit_message(list(self._changes.values()))
            )
            self._git("update-ref", JOURNAL, journal)
            return True

    def discard(self) -> None:
        """Forget what was saved but not pushed, the local journal included: an agent that
        lost the leader Lease leaves the status to the new leader, which observes for itself."""
        with self._lock:
            self._pending, self._changes, self._wal_tip = {}, {}, None
            with contextlib.suppress(StatusWriteError):
                self._git("update-ref", "-d", JOURNAL)

    def flush(self) -> None:
        """Push everything saved since the last push as one commit. Never forces: a rejected
        push fetches the new tip, re-applies our documents on top, and tries again."""
        with self._lock:
            if not self._pending:
                return
            message = documents.commit_message(list(self._changes.values()))
            for attempt in range(self._attempts):
                commit = self._commit(self._base, message)
                try:
                    self._git("push", "--porcelain", self.url, f"{commit}:refs/heads/{self.branch}")
                except StatusWriteError as error:
                    if not any(word in str(error) for word in _REJECTED):
                        raise
                    self._meter.count("gitflink_retries_total", {"cause": "status_push_rejected"})
                    self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
                    self._fetch()
                    continue
                self._pushed(commit)
                return
            raise StatusWriteError(
                f"status branch {self.branch}: push rejected {self._attempts} times"
            )

    def _pushed(self, commit: str) -> None:
        """`commit`, holding every save pending, is the branch's tip now."""
        for path, data in self._pending.items():
            if data is None:
                self._files.pop(path, None)
            else:
                self._files[path] = data
        self._base, self._pending, self._changes = commit, {}, {}
        self._git("update-ref", "-d", JOURNAL)
        if self._wal_tip is not None:
            self._drop_wal()
