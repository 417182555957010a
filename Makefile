# Every target creates or refreshes .venv by itself: a fresh machine needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test test-fast check bench format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/gitflink demo $(DEMO_ARGS)

test: venv
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

# The quick loop while developing: no real Flink processes.
test-fast: venv
	$(PY) -m pytest -m "not flink" $(PYTEST_ARGS)

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
