"""Raw requests for custom resources on the test bed, as kubectl sends them (`TABLE`: the
server-side printing `kubectl get` asks for, with the CRD's additionalPrinterColumns)."""

from __future__ import annotations

import json
from typing import Any

import kubernetes.client as k8s

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def raw(
    api: k8s.ApiClient,
    path: str,
    accept: str = "application/json",
    *,
    method: str = "GET",
    body: Any = None,
) -> dict[str, Any]:
    response = api.call_api(
        path,
        method,
        header_params={"Accept": accept, "Content-Type": "application/merge-patch+json"},
        body=body,
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
        _preload_content=False,
    )
    found: dict[str, Any] = json.loads(response.data)
    return found


def path_of(namespace: str, plural: str = "flinkdeployments", name: str = "") -> str:
    base = f"/apis/flink.apache.org/v1beta1/namespaces/{namespace}/{plural}"
    return f"{base}/{name}" if name else base
