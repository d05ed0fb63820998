# Two commands set everything up: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= broadsheet-data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test lint typecheck unit bench clean system-deps lock

# Exact versions, with hashes, of everything `make run` (requirements.lock) and `make test`
# (requirements-test.lock: the same pins plus the `test` extra) install; `make lock` writes both.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
# The installers are pinned too: pip-tools reads pip's internals, as the code reads its libraries'.
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q pip==$(PIP_VERSION)

# Reinstall when a lock file changes, or pyproject.toml (the project's own metadata and entry points). The
# project goes in without its dependencies, which the lock already installed; an editable install cannot be
# hash-checked, and it builds with the locked setuptools instead of fetching one.
$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(TEST_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
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

# The browser tests drive Debian's Chromium (a browser download by Playwright cannot be reached from here);
# the store, pipeline and web tests run on PostgreSQL too, in a throwaway cluster of Debian's binaries
# (tests/postgres.py).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { echo "installing Debian's postgresql for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@command -v newsboat >/dev/null 2>&1 || { echo "installing Debian's newsboat for the reader-app tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq newsboat >/dev/null; }

# Two test processes (pytest-xdist), each with its own PostgreSQL cluster; a module's tests stay in one process,
# so a module's server and database are built once. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
unit: $(VENV)/.installed-test system-deps
	$(BIN)/pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope)

test: lint typecheck unit

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/extraction.py

# Rewrites both lock files from pyproject.toml, keeping every pin that still satisfies it; add
# LOCK_ARGS=--upgrade to move everything to its newest release, or LOCK_ARGS='-P sqlalchemy' for one package.
# The test lock is resolved first and the runtime one within it, so the two never pin a package differently.
# Run it with the Python the project is tested on (3.11), where pip's configuration offers the CPU build of
# torch (see pyproject.toml): the locks name no index, and pip's own configuration supplies it at install time.
LOCK_TOOLS := $(VENV)/lock-tools
LOCK_ARGS ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile -q --generate-hashes \
	--allow-unsafe --build-deps-for=editable --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

$(LOCK_TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install -q pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION)

lock: $(LOCK_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) --extra test -o $(TEST_LOCK) pyproject.toml
	$(PIP_COMPILE) -c $(TEST_LOCK) -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
