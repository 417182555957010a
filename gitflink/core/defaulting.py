"""The default Flink configuration (config file `flinkConfiguration`, like the operator's
default configuration) laid under every FlinkDeployment's own: a key the manifest sets wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gitflink.core.parsing import Desired
from gitflink.model.flinkconf import flatten_configuration
from gitflink.model.resources import FlinkDeployment


def with_default_configuration(
    desired: Sequence[Desired], defaults: Mapping[str, Any]
) -> tuple[Desired, ...]:
    """Each FlinkDeployment with the defaults under its flinkConfiguration (dotted and nested
    spellings are the same key); everything else as it is."""
    if not defaults:
        return tuple(desired)
    flat = flatten_configuration(dict(defaults))
    found = []
    for item in desired:
        resource = item.resource
        if isinstance(resource, FlinkDeployment):
            own = resource.spec.flink_configuration
            merged = {**flat, **own}
            if merged != own:
                spec = resource.spec.model_copy(update={"flink_configuration": merged})
                found.append(replace(item, resource=resource.model_copy(update={"spec": spec})))
                continue
        found.append(item)
    return tuple(found)
