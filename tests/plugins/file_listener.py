"""An example listener plugin (entry point group `gitflink.listeners`): appends each revision
state to the file named by its `path` option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitflink.model.notifications import RevisionState
from gitflink.ports import ResourceListener


class FileListener(ResourceListener):
    def __init__(self, options: dict[str, Any]) -> None:
        self.path = Path(options["path"])

    def on_revision(self, state: RevisionState) -> None:
        with self.path.open("a") as out:
            out.write(f"{state.state.value} {state.sha[:7]} {state.description}\n")
