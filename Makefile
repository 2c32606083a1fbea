# tinyml-lsp — everything a fresh machine needs is installed from here.
#   make demo    install, then run the lifecycle on the example project
#   make test    install, then lint and run every test
#   make bench   install, then print the measured benchmarks

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test test-fast lint client bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

lint: install
	$(BIN)/ruff check .

test: install lint client
	$(BIN)/python -m pytest -q

# the VS Code client: dependencies from the npm registry, then a strict type-check and build
client:
	cd vscode-client && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p .

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not emulator"

demo: install
	$(BIN)/python examples/demo.py

bench: install
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .state .pytest_cache .ruff_cache vscode-client/node_modules vscode-client/out
