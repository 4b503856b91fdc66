# Khlang: `make run` serves the demo catalogue, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= var
export KHLANG_DATA_DIR ?= $(DATA_DIR)

.PHONY: run test lint format install install-dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/khlang init
	$(BIN)/khlang demo
	$(BIN)/khlang serve --host 127.0.0.1 --port 5000

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev
	$(BIN)/python -m bench.harvest
	$(BIN)/python -m bench.search

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .ruff_cache *.egg-info
