# frontdesk — every target bootstraps what it needs (venv, packages, Kafka jars, broker).
#   make demo   the main job: the whole story on the embedded local broker
#   make test   the whole suite: lint, types, unit and integration tests on a real broker

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k outbox"`.
PYTEST_ARGS ?=

.PHONY: bootstrap system-deps test-deps demo test unit fuzz lint typecheck bench clean

APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

# Java and Maven run the embedded broker; install them only where they are missing.
system-deps:
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing java and maven (apt)"; $(APT_INSTALL) default-jdk-headless maven >/dev/null; }

# The outbox tests run a throwaway PostgreSQL server; the console tests drive Chromium.
test-deps: system-deps
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v chromium >/dev/null || { \
	  echo "installing postgresql and chromium (apt)"; $(APT_INSTALL) postgresql chromium >/dev/null; }

# uv lives in its own small venv so that `uv sync` (exact) never removes it.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The lock file pins every version: all machines get the same packages.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	@touch $@

bootstrap: system-deps $(VENV)/.synced

demo: bootstrap
	$(BIN)/frontdesk demo

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: bootstrap
	$(BIN)/mypy

unit: bootstrap
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# The property-based tests over hostile input (marker `fuzz`), with many more examples.
fuzz: bootstrap
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -m fuzz --timeout=3600 $(PYTEST_ARGS)

test: test-deps lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: bootstrap
	$(BIN)/frontdesk bench producer

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
