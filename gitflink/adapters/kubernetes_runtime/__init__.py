"""The Kubernetes runtime: Flink clusters as Kubernetes objects, applied with server-side apply,
observed through the API server, reached over Flink REST through the JobManager."""
