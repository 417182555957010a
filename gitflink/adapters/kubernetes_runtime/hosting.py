"""Whether gitflink runs in a pod: the kubelet gives every container the API server's address
and mounts the service account's token."""

from __future__ import annotations

import os
import socket
from pathlib import Path

TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def in_cluster() -> bool:
    return "KUBERNETES_SERVICE_HOST" in os.environ and TOKEN.is_file()


NAMESPACE = TOKEN.with_name("namespace")


def pod_namespace() -> str | None:
    """The pod's namespace (mounted with its service account), None outside a cluster."""
    if not in_cluster():
        return None
    try:
        return NAMESPACE.read_text().strip() or None
    except OSError:
        return None


def identity() -> str:
    """This process among agents: the host name (a pod's name) and the process id."""
    return f"{socket.gethostname()}_{os.getpid()}"
