"""Whether gitflink runs in a pod: the kubelet gives every container the API server's address
and mounts the service account's token."""

from __future__ import annotations

import os
from pathlib import Path

TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def in_cluster() -> bool:
    return "KUBERNETES_SERVICE_HOST" in os.environ and TOKEN.is_file()
