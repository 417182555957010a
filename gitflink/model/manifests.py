"""Which files of a tree are read as manifests: `*.yaml` and `*.yml`, minus what the ignore file
at the tree's top (`.gitflinkignore`, gitignore syntax) and `--exclude` patterns exclude."""

from __future__ import annotations

MANIFEST_SUFFIXES = (".yaml", ".yml")
IGNORE_FILE = ".gitflinkignore"
