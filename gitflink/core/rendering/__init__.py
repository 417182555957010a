"""Rendering, pure: a FlinkDeployment as the Kubernetes objects that run it, in Flink's
standalone or native layout (manifests.render)."""
