"""FLINK-27569's workaround, finished: every application start keeps its JobResultStore under a
path of its own (`<storageDir>/job-result-store/<name>/<start>`, core.rendering); once a new
start runs, the directories of earlier starts are removed, the newest (the running one) always
kept. Storage is reached through fsspec: `file://` (or a path) always, object storage when its
implementation is installed (`s3://` with the `s3` extra, s3fs; `gs://` with gcsfs...), with
that library's own credentials (for S3: the AWS environment, profile or pod identity). Storage
it cannot reach is left alone, with a warning saying why: cleaning never fails a start."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import fsspec
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gitflink.model.flinkconf import config_file_name
from gitflink.model.ids import ResourceId
from gitflink.model.secrets import hide_in_text

log = logging.getLogger(__name__)
KEY = "job-result-store.storage-path"
ALIASES = {"s3p": "s3"}  # Flink's Presto S3 plugin: the same buckets as s3:// and s3a://


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
    them as URLs. Anything not laid out as gitflink renders it is left alone."""
    scheme, sep, rest = path.partition("://")
    try:
        fs, current = fsspec.url_to_fs(f"{ALIASES.get(scheme, scheme)}{sep}{rest}")
    except (ImportError, ValueError) as error:  # no implementation installed, unknown scheme
        _not_cleaned(resource, path, error)
        return []
    current = current.rstrip("/")
    parent = posixpath.dirname(current)
    if posixpath.basename(parent) != resource.name:
        return []  # set by the user (`job-result-store.storage-path`): theirs to manage
    if posixpath.basename(posixpath.dirname(parent)) != "job-result-store":
        return []
    removed = []
    try:
        fs.invalidate_cache(parent)  # a listing cached by an earlier start is stale
        for entry in fs.ls(parent, detail=True):
            name = str(entry["name"]).rstrip("/")
            if entry["type"] != "directory" or posixpath.basename(name) == posixpath.basename(
                current
            ):
                continue
            fs.rm(name, recursive=True)
            removed.append(fs.unstrip_protocol(name))
            log.info("%s: removed the JobResultStore of an earlier start, %s", resource, name)
    except FileNotFoundError:
        pass  # no start has written a result there yet
    except Exception as error:  # storage down or refusing, whatever its library raises
        _not_cleaned(resource, path, error)
    return sorted(removed)


def _not_cleaned(resource: ResourceId, path: str, error: Exception) -> None:
    """A warning, never an error: the new start runs; earlier results are only kept longer."""
    said = f"{path}: {error}"
    userinfo = urlsplit(path).netloc.rpartition("@")[0]  # libraries quote it without its scheme
    if userinfo:
        said = said.replace(userinfo, "******")
    said = hide_in_text(said, lambda _: "******")
    log.warning("%s: JobResultStores of earlier starts not cleaned, %s", resource, said)
