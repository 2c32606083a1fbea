"""The extension's bad states in code-server, each a clear message in the editor and never a
silent failure: tinyml-lsp not installed in the chosen interpreter (named, with the install
command), a server that crashes at every start (restarted `maxRestarts` times, then said), no
board chosen, no LLM endpoint, a server command that does not exist, no folder open."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.editors.vscode.code_server import BASE_SETTINGS, code_server, drive
from tinyml_lsp.lsp.server import create_server

pytestmark = pytest.mark.slow
SYSTEM_PYTHON = "/usr/bin/python3"


def _server_commands() -> set[str]:
    return set(create_server().protocol.fm.commands)


def _crashing_python(folder: Path) -> Path:
    """An interpreter that has tinyml-lsp (its import works) but whose server dies at once,
    as a broken installation's would: the real exit of a real process."""
    script = folder / "crashing-python"
    script.write_text(f"""#!/bin/sh
case "$*" in *"-m tinyml_lsp"*) echo "fatal: simulated broken install" >&2; exit 3;; esac
exec {sys.executable} "$@"
""")
    script.chmod(0o755)
    return script


def test_bad_states_are_said(code_server_binary, tmp_path, artifacts):
    lacks = subprocess.run([SYSTEM_PYTHON, "-c", "import tinyml_lsp"], capture_output=True)
    assert lacks.returncode != 0, f"{SYSTEM_PYTHON} has tinyml-lsp: step 1 needs one without"
    workspace = tmp_path / "ws"
    (workspace / "fw" / "src").mkdir(parents=True)
    (workspace / "fw" / "platformio.ini").write_text("[env:fw]\nplatform = native\n")
    (workspace / "fw" / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    (workspace / "script.py").write_text("print('hello')\n")
    shutil.copy(MODELS / "hello_world_int8.tflite", workspace / "hello_world_int8.tflite")
    steps = {"crashing": {"tinyml.server.python": str(_crashing_python(tmp_path)),
                          "tinyml.server.maxRestarts": 2},
             "working": {"tinyml.server.python": sys.executable}}
    with code_server(code_server_binary, tmp_path, workspace,
                     {"tinyml.server.python": SYSTEM_PYTHON}) as url:
        returncode, seen, stderr = drive("bad_states.mjs", {
            "TINYML_URL": url, "TINYML_WORKSPACE": str(workspace),
            "TINYML_ARTIFACTS": str(artifacts), "TINYML_SETTINGS": json.dumps(steps),
            "TINYML_BASE_SETTINGS": json.dumps(BASE_SETTINGS)}, 420)
    assert returncode == 0, f"{seen.get('failure')}\n{stderr[-3000:]}"
    s = seen["steps"]
    print(json.dumps(s, indent=1))
    assert f"tinyml-lsp is not installed in {SYSTEM_PYTHON}" in s["not_installed"]
    assert f"{SYSTEM_PYTHON} -m pip install tinyml-lsp" in s["not_installed"]
    assert "No module named 'tinyml_lsp'" in s["not_installed"]
    assert "stopped 3 times" in s["crashing"] and "Restart Server" in s["crashing"]
    assert "no board selected" in s["no_board"] and "Select Board" in s["no_board"]
    assert "no LLM endpoint configured" in s["no_llm"]
    if "tinyml.check" in _server_commands():  # issue 12's server: its own answer
        assert "has no command" not in s["check"]
    else:
        assert "This tinyml-lsp server has no command tinyml.check" in s["check"]
    assert "open a folder first" in s["no_workspace"]
