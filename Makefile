# Two entry points: `make run` opens the chat app on seeds/, `make test` runs the whole test suite.
# `make setup-llm` adds what the real-model tests need (they skip without it, except under CI=true); `make test-llm`
# runs those alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm

.PHONY: run test setup lint setup-llm test-llm

run: setup
	@bash .ci/install-tesseract || true
	$(BIN)/assistant ui

test: setup
	@command -v chromium >/dev/null 2>&1 || bash .ci/install-chromium || true
	@bash .ci/install-tesseract || true
	@bash .ci/install-nginx || true
	$(BIN)/python -m pytest

# ruff (style, imports, bugs) and mypy (types of assistant/, index/, ui/; settings in pyproject.toml)
lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

test-llm: setup-llm
	$(BIN)/python -m pytest -n 0 -m llm

setup: $(STAMP)

setup-llm: $(LLM_STAMP)

# torch first, with the exact CPU pin, so that nothing pulls the CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The [llm-test] extra: llama-cpp-python is built from source (cmake, make, g++; a few minutes, once per pip cache).
$(LLM_STAMP): $(STAMP)
	bash .ci/install-build-tools
	@echo "installing the [llm-test] extra (llama-cpp-python builds from source: a few minutes)"
	$(BIN)/python -m pip install --quiet -e '.[dev,llm-test]'
	touch $(LLM_STAMP)
