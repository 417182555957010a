"""FLINK-27569's workaround, finished: every application start keeps its JobResultStore under a
path of its own (`<storageDir>/job-result-store/<name>/<start>`, core.rendering); once a new
start runs, the directories of earlier starts are removed, the newest (the running one) always
kept. Only storage gitflink can reach as files (`file://`, a path) is cleaned; other schemes
(`s3://`, `gs://`...) are left to their lifecycle rules, and logged."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gitflink.model.flinkconf import config_file_name
from gitflink.model.ids import ResourceId

log = logging.getLogger(__name__)
KEY = "job-result-store.storage-path"


def storage_path(objects: Sequence[dict[str, Any]]) -> str | None:
    """The JobResultStore path the rendered configuration gives the cluster, if any."""
    for obj in objects:
        if obj.get("kind") != "ConfigMap":
            continue
        data = obj.get("data") or {}
        for legacy in (False, True):
            text = data.get(config_file_name(legacy))
            if text is None:
                continue
            try:
                config = YAML(typ="safe", pure=True).load(text) or {}
            except YAMLError:
                return None
            value = config.get(KEY) if isinstance(config, dict) else None
            return str(value) if value else None
    return None


def remove_earlier(resource: ResourceId, path: str) -> list[str]:
    """Remove the sibling directories of `path` (earlier starts of the same cluster); return
    them. Anything not laid out as gitflink renders it is left alone."""
    parts = urlsplit(path)
    if parts.scheme not in ("", "file"):
        log.info("%s: JobResultStores under %s are not cleaned (no client)", resource, path)
        return []
    current = Path(parts.path)
    parent = current.parent
    if parent.name != resource.name or parent.parent.name != "job-result-store":
        return []  # set by the user (`job-result-store.storage-path`): theirs to manage
    try:
        earlier = [e for e in parent.iterdir() if e.is_dir() and e.name != current.name]
    except FileNotFoundError:
        return []
    for entry in earlier:
        shutil.rmtree(entry, ignore_errors=True)
        log.info("%s: removed the JobResultStore of an earlier start, %s", resource, entry)
    return sorted(str(e) for e in earlier)
