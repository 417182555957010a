"""The embedded local runtime: real Flink clusters as Java processes on this machine."""

from gitflink.adapters.local_runtime.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
