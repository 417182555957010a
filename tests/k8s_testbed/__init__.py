"""The Kubernetes test bed: a real control plane built from Go modules, a process kubelet that
runs pods as local Flink processes, and a fault proxy. Test code only; gitflink never imports it."""
