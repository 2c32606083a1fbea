# tinyml-lsp — everything a fresh machine needs is installed from here.
#   make demo    install, then run the lifecycle on the example project
#   make test    install, then lint, type-check and run every test
#   make bench   install, then print the measured benchmarks
#   make llm-bench  the LLM customization suite (needs TINYML_LLM_BASE_URL / _MODEL / _API_KEY)
#   make vsix    the VS Code extension, vscode-client/tinyml-lsp.vsix
#   make test-vscode  the extension in a real VS Code (code-server) and the report page

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# Debian packages for the emulated board: the Arm cross-compiler with newlib (and its C++
# library, for Arduino sketches and TFLite Micro), and QEMU.
APT_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib \
	qemu-system-arm
# and for the tests: Neovim 0.7 (Debian 12's), a real editor the server is driven by
TEST_APT_PACKAGES := neovim

.PHONY: vsix test-vscode code-server fuzz install system-deps test-deps demo test test-fast lint client bench llm-bench clean

# $(call apt-install,PACKAGES): install Debian packages that are missing (apt, as root or sudo)
define apt-install
@dpkg -s $(1) >/dev/null 2>&1 || { \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "error: needs root to install: apt-get install $(1)"; exit 1; fi; \
	echo "installing $(1)"; \
	$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		$$sudo apt-get install -y -q --no-install-recommends $(1); }
endef

system-deps:
	$(call apt-install,$(APT_PACKAGES))

test-deps:
	$(call apt-install,$(TEST_APT_PACKAGES))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# PlatformIO, offline: its core dir under .state/, the local platform and toolchain package
install: system-deps $(STAMP)
	@$(BIN)/python -m tinyml_lsp.deploy.pio_setup
	@# byte-compile the package: the editor starts the server often, and an environment with
	@# PYTHONDONTWRITEBYTECODE would otherwise recompile it on every start
	@$(BIN)/python -m compileall -q server/tinyml_lsp

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# the slowest tests are listed at the end, so a CI log shows where its time goes
test: install test-deps lint client vsix code-server
	$(BIN)/python -m pytest -q --durations=15

# the VS Code client: dependencies from the npm registry, a strict type-check, its unit tests
client:
	cd vscode-client && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p . && npm test --silent

test-fast: install test-deps
	$(BIN)/python -m pytest -q -m "not slow and not emulator"

demo: install
	$(BIN)/python examples/demo.py

# a large seeded fuzzing campaign: every command on ~600 broken inputs, the outcome table
fuzz: install
	$(BIN)/python -m tests.fuzz.campaign --models 400 --data 190 --seed 1

bench: install
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

# the customization suite against a real endpoint (TINYML_LLM_*); a clear skip without one
llm-bench: install
	@$(BIN)/python benchmarks/llm_bench.py

# the extension users install: bundled with esbuild, packaged by @vscode/vsce
vsix: client
	cd vscode-client && npm run --silent package

# the VS Code end-to-end test: code-server (a real VS Code, cached once per machine under
# .state/), Debian's Chromium driven by playwright-core, the built .vsix installed into it
VSCODE_APT_PACKAGES := build-essential libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium
code-server:
	$(call apt-install,$(VSCODE_APT_PACKAGES))
	@tests/editors/vscode/install-code-server.sh $(CURDIR)/.state/code-server
	cd tests/editors/vscode && npm ci --no-audit --no-fund --loglevel=error

test-vscode: install vsix code-server
	$(BIN)/python -m pytest -q tests/editors/vscode

clean:
	rm -rf $(VENV) .state .pytest_cache .ruff_cache .mypy_cache vscode-client/node_modules vscode-client/out \
		vscode-client/dist vscode-client/out-test vscode-client/tinyml-lsp.vsix tests/editors/vscode/node_modules
