# repopilot: `make demo` sets everything up and runs the demo; `make test` sets up and runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export REPOPILOT_HOME ?= $(CURDIR)/.repopilot

.PHONY: setup demo test test-all lint typecheck ui dashboard bench-ingest clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/repopilot run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/python -m pytest --cov --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

test-all: setup
	$(BIN)/python -m pytest -m "slow or not slow" $(PYTEST_ARGS)

ui: setup
	mkdir -p $(REPOPILOT_HOME)/dagster
	DAGSTER_HOME=$(REPOPILOT_HOME)/dagster $(BIN)/dagster dev -m pipelines.definitions

dashboard: setup
	$(BIN)/streamlit run dashboards/app.py --server.headless true --browser.gatherUsageStats false

bench-ingest: setup
	$(BIN)/repopilot benchmark ingest --json $(REPOPILOT_HOME)/bench-ingest.json

clean:
	rm -rf $(REPOPILOT_HOME) .pytest_cache .mypy_cache .ruff_cache .coverage
