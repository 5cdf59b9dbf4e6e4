# The two commands a newcomer needs: `make run` (one triage run on the embedded local stack)
# and `make test` (the suite, against real Temporal and PostgreSQL). Both set up .venv first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench schemas clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "setting up $(VENV) with $(PYTHON) (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: install
	@trap : INT; $(BIN)/activity-core run || [ $$? -eq 130 ]  # Ctrl-C: its one line is all

test: install lint
	$(BIN)/python -m pytest

# ruff (lint and format) and mypy keep the house; configured in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/boundary.py
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/history.py

schemas: install
	$(BIN)/python -m activity_core.schema_files schemas

clean:
	rm -rf $(VENV) .activity-core .pytest_cache build dist *.egg-info
