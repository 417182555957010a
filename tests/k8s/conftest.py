"""The Kubernetes test bed: a real kube-apiserver, etcd and controller-manager; pods run as
local Flink processes. Its fixtures are registered in tests/conftest.py."""
