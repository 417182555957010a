"""Pod templates merged in layers (podTemplate, the role's podTemplate, then gitflink's own), and
container resources from `resource` or `resources`.

Maps merge key by key; lists whose items all carry a `name` (containers, volumes, env, ports,
volumeMounts) merge item by item on it, as Kubernetes merges them; other lists are replaced.
"""

from __future__ import annotations

import math
import re
from copy import deepcopy
from typing import Any

from gitflink.model.resources import JobManagerSpec, Resource, TaskManagerSpec

FLINK_MEMORY = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(b|bytes|k|kb|kibibytes|m|mb|mebibytes|g|gb|gibibytes|t|tb|tebibytes)?\s*",
    re.IGNORECASE,
)
_SHIFT = {"b": 0, "k": 10, "m": 20, "g": 30, "t": 40}


def merge(base: Any, overlay: Any) -> Any:
    """`overlay` over `base`; neither is changed."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = deepcopy(base)
        for key, value in overlay.items():
            merged[key] = merge(base[key], value) if key in base else deepcopy(value)
        return merged
    if _named(base) and _named(overlay):
        items = [deepcopy(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(items)}
        for item in overlay:
            if item["name"] in index:
                items[index[item["name"]]] = merge(items[index[item["name"]]], item)
            else:
                items.append(deepcopy(item))
        return items
    return deepcopy(overlay)


def _named(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in value)
    )


def layered(*layers: dict[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result = merge(result, layer)
    return result


def flink_memory_mib(text: str) -> int:
    """Flink's memory syntax (`2048m`, `2g`, `1536 mb`: binary units, bytes by default) in MiB,
    rounded up. Not Kubernetes' quantity syntax, where `2048m` would mean 2.048 bytes."""
    match = FLINK_MEMORY.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Flink memory size")
    unit = (match.group(2) or "b").lower()[0]
    mib: int = math.ceil(float(match.group(1)) * 2 ** _SHIFT[unit] / 2**20)
    return max(1, mib)


def container_resources(role: JobManagerSpec | TaskManagerSpec) -> dict[str, Any] | None:
    """`resources` (Kubernetes requests/limits, as written) or `resource` (cpu and Flink memory:
    requests equal limits, so the pod gets what Flink sizes its memory for)."""
    if role.resources:
        return deepcopy(role.resources)
    resource: Resource | None = role.resource
    if resource is None:
        return None
    amounts: dict[str, str] = {}
    if resource.cpu is not None:
        amounts["cpu"] = _quantity(resource.cpu)
    if resource.memory is not None:
        amounts["memory"] = f"{flink_memory_mib(resource.memory)}Mi"
    if resource.ephemeral_storage is not None:
        amounts["ephemeral-storage"] = resource.ephemeral_storage
    return {"requests": dict(amounts), "limits": dict(amounts)} if amounts else None


def _quantity(cpu: float) -> str:
    millis = round(cpu * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
