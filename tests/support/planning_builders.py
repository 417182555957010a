"""Builders for planning tests: a desired record, an application deployment and its status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitflink.model.resources import AnyResource, FlinkDeployment
from gitflink.model.status import ReconciliationStatus, ResourceStatus


@dataclass(frozen=True)
class Record:
    resource: AnyResource
    file: str = "orders.yaml"


def deployment(mode: str = "savepoint", **job: Any) -> FlinkDeployment:
    return FlinkDeployment.model_validate(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "orders"},
            "spec": {
                "image": "flink:1.20",
                "flinkVersion": "v1_20",
                "job": {"jarURI": "local:///job.jar", "parallelism": 2, "upgradeMode": mode, **job},
            },
        }
    )


def status(deployed: FlinkDeployment, **fields: Any) -> ResourceStatus:
    spec = deployed.spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    return ResourceStatus(reconciliation=ReconciliationStatus(last_applied_spec=spec), **fields)
