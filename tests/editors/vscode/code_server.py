"""Start code-server for a test: its own user data and extensions folders, the built .vsix
installed, settings given, no auth, on a free loopback port; stopped with its process group."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.editors.vscode.conftest import HERE, VSIX

# variables that would configure an LLM endpoint: not inherited, the tests set what they mean
LLM_ENV = ("TINYML_LLM_", "OPENAI_")


BASE_SETTINGS = {
    "terminal.integrated.gpuAcceleration": "off",  # the terminal's text in the DOM
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "code-server exited at start"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"code-server did not answer on {url} in {timeout} s")


def write_settings(root: Path, settings: dict[str, Any]) -> None:
    (root / "user-data" / "User").mkdir(parents=True, exist_ok=True)
    (root / "user-data" / "User" / "settings.json").write_text(json.dumps({
        **BASE_SETTINGS, **settings}))


@contextlib.contextmanager
def code_server(binary: Path, root: Path, workspace: Path | None, settings: dict[str, Any],
                env: dict[str, str] | None = None) -> Iterator[str]:
    """code-server on a free port, serving `workspace` (with `env` added to its environment,
    which is the server's); yields its URL."""
    write_settings(root, settings)
    common = ["--user-data-dir", str(root / "user-data"),
              "--extensions-dir", str(root / "extensions")]
    installed = subprocess.run([str(binary), *common, "--install-extension", str(VSIX)],
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr
    assert "tinyml-lsp.tinyml-lsp" in subprocess.run(
        [str(binary), *common, "--list-extensions"], capture_output=True, text=True,
        timeout=60).stdout
    port = _free_port()
    (root / "config.yaml").write_text("auth: none\ncert: false\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(LLM_ENV)}, **(env or {})}
    with (root / "code-server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(binary), *common, "--config", str(root / "config.yaml"), "--auth", "none",
             "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
             "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", *([str(workspace)] if workspace else [])],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_http(url, server, 60)
            yield url
        finally:
            os.killpg(server.pid, 15)
            server.wait(30)


def drive(script: str, env: dict[str, str], timeout: float) -> tuple[int, dict[str, Any], str]:
    """Run a playwright script of this folder; its exit code, what it saw, its stderr."""
    run = subprocess.run(["node", str(HERE / script)], cwd=HERE, capture_output=True,
                         text=True, timeout=timeout, env={**os.environ, **env})
    seen = json.loads((Path(env["TINYML_ARTIFACTS"]) / "seen.json").read_text())
    return run.returncode, seen, run.stderr
