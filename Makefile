# Every target creates or refreshes .venv by itself: a fresh machine needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv ssh-server testbed demo test test-fast crash-matrix check bench format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# sshd serves Git over SSH to one test (tests/adapters/test_git_source_ssh.py), so only the test targets
# install it, and only when it is missing and apt-get can run without asking: as root (CI) or
# with password-less sudo. Elsewhere that test is skipped and says why; nothing else needs it.
ssh-server:
	@test -x /usr/sbin/sshd || { \
		if [ "$$(id -u)" = 0 ]; then sudo=; \
		elif sudo -n true 2>/dev/null; then sudo=sudo; \
		else echo "note: /usr/sbin/sshd missing and no root: the SSH test will be skipped"; exit 0; fi; \
		command -v apt-get >/dev/null || { \
			echo "note: /usr/sbin/sshd missing and no apt-get: the SSH test will be skipped"; exit 0; }; \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			openssh-server >/dev/null; }

# The Kubernetes test bed's kube-apiserver, kube-controller-manager and etcd, built from Go
# modules once into ~/.cache/gitflink/testbed/ (minutes on 2 cores the first time, then reused).
testbed: venv
	$(PY) tests/k8s_testbed/build.py

demo: venv
	$(VENV)/bin/gitflink demo $(DEMO_ARGS)

# The fast tests run on every core (pytest-xdist). Real Flink and the test bed then run on two
# workers, by group (tests/conftest.py): every test bed test on one, with its one API server,
# and each real-Flink module whole, with its shared cluster; they wait on Flink more than they
# compute. Exit 5 is "nothing selected" (a -k in PYTEST_ARGS that matches only one half).
test: venv ssh-server testbed
	$(PY) -m pytest -m "not flink and not k8s" -n auto --cov --cov-report= $(PYTEST_ARGS) \
		|| [ $$? -eq 5 ]
	$(PY) -m pytest -m "flink or k8s" -n 2 --dist loadgroup --cov --cov-append \
		--cov-report=term:skip-covered --durations=25 $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The quick loop while developing: no real Flink processes, no Kubernetes test bed.
test-fast: venv ssh-server
	$(PY) -m pytest -m "not flink and not k8s" -n auto $(PYTEST_ARGS)

# Every crash point of every workflow on real Flink (make test runs every sixth; docs/recovery.md).
crash-matrix: venv
	CRASH_MATRIX_STRIDE=1 $(PY) -m pytest tests/flink/test_crash_matrix_flink.py -s $(PYTEST_ARGS)

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
