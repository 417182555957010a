"""What one manifest may cost to read: files over a size and documents over a node count are
refused before they are parsed or built (settings: max_manifest_bytes, max_manifest_nodes)."""

from __future__ import annotations

from dataclasses import dataclass

from gitflink.core.yaml_loading import MAX_NODES
from gitflink.model.problems import Problem


@dataclass(frozen=True, slots=True)
class Limits:
    """What one manifest may cost to read (settings: max_manifest_bytes, max_manifest_nodes).
    1.5 MiB is the Kubernetes API server's limit for one object; no Flink manifest nears it."""

    max_file_bytes: int = 1_572_864
    max_nodes: int = MAX_NODES


DEFAULT_LIMITS = Limits()


def too_large(path: str, size: int, limits: Limits) -> Problem:
    message = (
        f"file is {size} bytes, over the limit of {limits.max_file_bytes} "
        "(max_manifest_bytes); not read"
    )
    return Problem(path, 1, 1, "", message)
