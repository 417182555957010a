# Every target creates or refreshes .venv by itself: a fresh machine needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv system-deps testbed demo test test-fast check bench format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Programs the tests run for real: sshd serves Git over SSH (tests/test_git_source_ssh.py).
# Installed only when missing, so this is a file check on every later run.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@test -x /usr/sbin/sshd || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			openssh-server >/dev/null; }

# The Kubernetes test bed's kube-apiserver, kube-controller-manager and etcd, built from Go
# modules once into ~/.cache/gitflink/testbed/ (minutes on 2 cores the first time, then reused).
testbed: venv
	$(PY) tests/k8s_testbed/build.py

demo: venv system-deps
	$(VENV)/bin/gitflink demo $(DEMO_ARGS)

test: venv system-deps testbed
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

# The quick loop while developing: no real Flink processes, no Kubernetes test bed.
test-fast: venv system-deps
	$(PY) -m pytest -m "not flink and not k8s" $(PYTEST_ARGS)

check: venv
	$(VENV)/bin/ruff format --check gitflink tests benchmarks
	$(VENV)/bin/ruff check gitflink tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/gitflink schema --check
	$(VENV)/bin/gitflink validate sample-repo

bench: venv
	$(PY) -m benchmarks

format: venv
	$(VENV)/bin/ruff format gitflink tests benchmarks
	$(VENV)/bin/ruff check --fix gitflink tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
