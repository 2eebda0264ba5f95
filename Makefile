# Every target creates and uses .venv, so it works on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true

.PHONY: install install-test demo test lint unit e2e plugins docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo]"

# --upgrade: the suite always runs against the newest kedro<2 on PyPI, so a Kedro
# release that changes a private API kedro-runtime relies on fails loudly here.
install-test: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade -e ".[test]" "kedro>=1.7,<2"
	$(BIN)/python -c "import kedro; print('Testing against kedro', kedro.__version__)"

demo: install
	$(BIN)/python examples/demo.py

lint: install-test
	$(BIN)/ruff check kedro_runtime tests tests_plugins examples benchmarks features
	$(BIN)/ruff format --check kedro_runtime tests tests_plugins
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install-test
	$(BIN)/pytest

test: lint unit

# behave features: generate a project with `kedro new`, drive the real `kedro` CLI.
e2e: install-test
	$(BIN)/behave features --format progress

# The plugins of docs/plugins.md (kedro-mlflow with MLflow on SQLite, pandera),
# installed in a venv of their own: a plugin registers its hooks in every session.
PLUGINS_VENV := .venv-plugins

$(PLUGINS_VENV)/bin/python:
	$(PYTHON) -m venv $(PLUGINS_VENV)
	$(PLUGINS_VENV)/bin/python -m pip install --quiet --upgrade pip

plugins: $(PLUGINS_VENV)/bin/python
	$(PLUGINS_VENV)/bin/pip install --quiet --upgrade -e ".[plugins]" "kedro>=1.7,<2"
	$(PLUGINS_VENV)/bin/pytest tests_plugins -p no:cacheprovider

# Benchmarks: `make bench`, `make bench BENCH_ARGS=--quick`, `make bench BENCH_ARGS=--publish`.
bench: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

docs: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[docs]"
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(PLUGINS_VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache site
