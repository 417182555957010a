"""Real Flink JobManagers and TaskManagers on this machine: one shared runtime per session."""

from support.flink_fixtures import flink_cluster, flink_runtime

__all__ = ["flink_cluster", "flink_runtime"]  # fixtures, imported for pytest to find
