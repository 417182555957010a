"""gitflink: a GitOps control plane for Apache Flink."""

__version__ = "0.1.0"
