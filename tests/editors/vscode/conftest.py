"""What the VS Code end-to-end tests need: code-server (installed once per machine under
.state/ by `make code-server`), Debian's Chromium and npm's playwright-core. Missing pieces fail
the test in CI (where `make test` installs them) and skip it elsewhere, with the command."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CODE_SERVER = REPO / ".state" / "code-server" / "node_modules" / ".bin" / "code-server"
VSIX = REPO / "vscode-client" / "tinyml-lsp.vsix"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TINYML_ARTIFACTS", REPO / ".state" / "artifacts"))


def _missing(what: str, how: str) -> None:
    message = f"{what} is missing: run `{how}`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        _missing("node", "apt-get install nodejs")
    if not (HERE / "node_modules" / "playwright-core").is_dir() or not CHROMIUM.exists():
        _missing("playwright-core or Chromium", "make code-server")
    return str(found)


@pytest.fixture(scope="session")
def code_server_binary(node: str) -> Path:
    if not CODE_SERVER.exists():
        _missing("code-server", "make code-server")
    if not VSIX.exists():
        _missing("the extension's .vsix", "make vsix")
    return CODE_SERVER


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Screenshots and what the browser saw, kept after the test: .state/artifacts/<test>/."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
