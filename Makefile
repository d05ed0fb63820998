# Two commands set everything up: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= broadsheet-data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test lint typecheck unit bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# Reinstall only when the project's declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

PORT ?= 8000
run: $(VENV)/.installed
	$(BIN)/broadsheet --home $(HOME_DIR) init
	@echo "open http://localhost:$(PORT)/ (the crawl runs inside the server; Ctrl-C stops both)"
	$(BIN)/broadsheet --home $(HOME_DIR) serve --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (a browser download by Playwright cannot be reached from here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

unit: $(VENV)/.installed-test system-deps
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/extraction.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
