# Two entry points: `make run` opens the chat app on seeds/, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint

run: setup
	@bash .ci/install-tesseract || true
	$(BIN)/assistant ui

test: setup
	@command -v chromium >/dev/null 2>&1 || bash .ci/install-chromium || true
	@bash .ci/install-tesseract || true
	$(BIN)/python -m pytest

# ruff (style, imports, bugs) and mypy (types of assistant/, index/, ui/; settings in pyproject.toml)
lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

setup: $(STAMP)

# torch first, with the exact CPU pin, so that nothing pulls the CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
