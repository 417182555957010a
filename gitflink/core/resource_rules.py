"""JobManager and TaskManager resources, after the operator's validator: amounts that parse, are
positive and keep requests within limits, and memory defined somewhere Flink can read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from gitflink.core import quantities
from gitflink.core.parsing import Desired
from gitflink.model.problems import Problem
from gitflink.model.resources import FlinkDeploymentSpec, JobManagerSpec, TaskManagerSpec

MEMORY = "memory"
# Flink options that define the process memory without `resource.memory` (any one of a set).
JM_MEMORY_KEYS: tuple[tuple[str, ...], ...] = (
    ("jobmanager.memory.process.size",),
    ("jobmanager.memory.flink.size",),
    ("jobmanager.memory.heap.size",),
    ("jobmanager.heap.size",),
)
TM_MEMORY_KEYS: tuple[tuple[str, ...], ...] = (
    ("taskmanager.memory.process.size",),
    ("taskmanager.memory.flink.size",),
    ("taskmanager.memory.task.heap.size", "taskmanager.memory.managed.size"),
    ("taskmanager.heap.size",),
)
_READERS: dict[str, Callable[[str], Decimal]] = {
    "cpu": quantities.quantity,
    MEMORY: quantities.memory,
    "ephemeral-storage": quantities.quantity,
}


def resource_problems(item: Desired, spec: FlinkDeploymentSpec) -> list[Problem]:
    conf = spec.flink_configuration
    return [
        *_component(item, "jobManager", spec.job_manager, conf, JM_MEMORY_KEYS),
        *_component(item, "taskManager", spec.task_manager, conf, TM_MEMORY_KEYS),
    ]


def _component(
    item: Desired,
    name: str,
    component: JobManagerSpec | TaskManagerSpec,
    conf: Mapping[str, Any],
    memory_keys: tuple[tuple[str, ...], ...],
) -> list[Problem]:
    where = f"spec.{name}"
    problems: list[Problem] = []
    resource = component.resource
    if resource is not None:
        if resource.cpu is not None and resource.cpu <= 0:
            message = f"must be greater than 0, got {resource.cpu:g}"
            problems.append(item.problem(f"{where}.resource.cpu", message))
        amounts = (
            ("memory", resource.memory, quantities.memory),
            ("ephemeralStorage", resource.ephemeral_storage, quantities.quantity),
        )
        for field, text, reader in amounts:
            if text is not None:
                problems += _amount(item, f"{where}.resource.{field}", text, reader)
    problems += _requirements(item, f"{where}.resources", component.resources or {})
    if not _memory_defined(component, conf, memory_keys):
        keys = " or ".join(" and ".join(group) for group in memory_keys[:2])
        message = (
            f"memory is defined nowhere: set {where}.resource.memory "
            f"(or {where}.resources.requests.memory, or {keys})"
        )
        problems.append(item.problem(where, message))
    return problems


def _amount(
    item: Desired, path: str, value: Any, reader: Callable[[str], Decimal]
) -> list[Problem]:
    try:
        amount = reader(str(value))
    except ValueError as error:
        return [item.problem(path, f"cannot be parsed: {error}")]
    if amount <= 0:
        return [item.problem(path, f"must be greater than 0, got {value!r}")]
    return []


def _requirements(item: Desired, path: str, resources: Mapping[str, Any]) -> list[Problem]:
    """Kubernetes ResourceRequirements: each amount parses and is positive; a request never
    exceeds its limit."""
    problems: list[Problem] = []
    read: dict[str, dict[str, Decimal]] = {}
    for side in ("requests", "limits"):
        amounts = resources.get(side)
        if not isinstance(amounts, Mapping):
            continue
        for key, value in amounts.items():
            reader = _READERS.get(key, quantities.quantity)
            found = _amount(item, f"{path}.{side}.{key}", value, reader)
            problems += found
            if not found:
                read.setdefault(side, {})[key] = reader(str(value))
    requests, limits = read.get("requests", {}), read.get("limits", {})
    for key in sorted(set(requests) & set(limits)):
        if requests[key] > limits[key]:
            message = f"must be less than or equal to the limit ({resources['limits'][key]!r})"
            problems.append(item.problem(f"{path}.requests.{key}", message))
    return problems


def _memory_defined(
    component: JobManagerSpec | TaskManagerSpec,
    conf: Mapping[str, Any],
    memory_keys: tuple[tuple[str, ...], ...],
) -> bool:
    resource = component.resource
    if resource is not None and (resource.memory or "").strip():
        return True
    resources = component.resources or {}
    for side in ("requests", "limits"):
        amounts = resources.get(side)
        if isinstance(amounts, Mapping) and amounts.get(MEMORY) is not None:
            return True
    return any(all(_set(conf, key) for key in group) for group in memory_keys)


def _set(conf: Mapping[str, Any], key: str) -> bool:
    return conf.get(key) is not None and str(conf[key]).strip() != ""
