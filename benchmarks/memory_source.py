"""A Git source held in memory for the benchmarks: each `commit` is a new revision of the files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from gitflink.ports import Revision


class MemorySource:
    def __init__(self) -> None:
        self.count = 0
        self.files: dict[str, bytes] = {}

    def commit_files(self, files: Mapping[str, bytes]) -> None:
        self.count += 1
        self.files = dict(files)

    def fetch(self) -> Revision:
        return Revision(sha=f"{self.count:040x}", ref="main")

    def read_tree(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, bytes]:
        return dict(self.files)

    def blob_ids(self, revision: Revision, roots: Sequence[str]) -> Mapping[str, str]:
        return {path: hashlib.sha1(data).hexdigest() for path, data in self.files.items()}

    def read_blobs(self, ids: Iterable[str]) -> Mapping[str, bytes]:
        by_id = {hashlib.sha1(data).hexdigest(): data for data in self.files.values()}
        return {oid: by_id[oid] for oid in ids}
