"""The VS Code extension, built as users install it (the .vsix), in a real VS Code: code-server
4.100.3 in headless Chromium. From the command palette, on a trained fruit-to-emoji project:
Quantize Model, Generate Inference Sketch for the emulated board (accepted in the refactor
preview), Flash to Board (the predictions in the serial terminal), Show Model Report (the page
and its charts). Screenshots go to .state/artifacts/<test>/. The LLM API key set through the
extension is in no log, no trace and no screen, and it reached the server (masked in the
trace)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.editors.vscode.conftest import HERE, VSIX

pytestmark = [pytest.mark.slow, pytest.mark.emulator]
BUDGET = 480  # seconds for the whole UI run


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


def _text_files(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in folder.rglob("*")
            if p.is_file() and p.suffix in (".log", ".txt", ".json", "") and p.stat().st_size < 5e7}


def test_the_extension_in_code_server(code_server, fruit_trained, fresh_copy, tmp_path,
                                      artifacts):
    workspace = fresh_copy(fruit_trained)
    for old in [*workspace.glob("*.tflite"), *workspace.glob("*_quantize_report.*")]:
        old.unlink()
    user_data, extensions = tmp_path / "user-data", tmp_path / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps({
        "tinyml.server.python": sys.executable,
        "tinyml.trace.server": "verbose",  # every message in the log: the key must be masked
        "terminal.integrated.gpuAcceleration": "off",  # the terminal's text in the DOM
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "extensions.ignoreRecommendations": True,
        "telemetry.telemetryLevel": "off",
    }))
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    installed = subprocess.run([str(code_server), *common, "--install-extension", str(VSIX)],
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr
    assert "tinyml-lsp.tinyml-lsp" in subprocess.run(
        [str(code_server), *common, "--list-extensions"], capture_output=True, text=True,
        timeout=60).stdout

    port = _free_port()
    config = tmp_path / "config.yaml"
    config.write_text("auth: none\ncert: false\n")
    log = (tmp_path / "code-server.log").open("wb")
    server = subprocess.Popen(
        [str(code_server), *common, "--config", str(config), "--auth", "none",
         "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry", "--disable-update-check",
         "--disable-workspace-trust", "--disable-getting-started-override", str(workspace)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    key = "sk-tinyml-e2e-" + secrets.token_hex(12)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(url, server, 60)
        started = time.monotonic()
        run = subprocess.run(
            ["node", str(HERE / "e2e.mjs")], cwd=HERE, capture_output=True, text=True,
            timeout=BUDGET + 60,
            env={**os.environ, "TINYML_URL": url, "TINYML_WORKSPACE": str(workspace),
                 "TINYML_ARTIFACTS": str(artifacts), "TINYML_API_KEY": key})
        took = time.monotonic() - started
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
        log.close()
    seen = json.loads((artifacts / "seen.json").read_text())
    assert run.returncode == 0, f"{seen.get('failure')}\n{run.stderr[-3000:]}"
    assert took < BUDGET, f"the UI run took {took:.0f} s"
    steps = seen["steps"]
    print("\n".join(f"{name}: at {s['seconds']:.1f} s" + (
        f", took {s['seconds_taken']:.1f} s" if "seconds_taken" in s else "")
        for name, s in steps.items()))

    # Quantize Model: the files, as the message said
    assert "fruit_model_int8.tflite" in steps["quantize"]["message"]
    assert (workspace / "fruit_model_int8.tflite").is_file()
    # Generate Inference Sketch: the emulated board, accepted in the preview, on disk
    assert steps["sketch"]["board"].startswith("tinyml-qemu-m4")
    firmware = workspace / "fruit_model_firmware"
    for f in ("platformio.ini", "src/main.c", "src/model.c", "src/test_vectors.h"):
        assert (firmware / f).is_file(), f
    # Flash to Board: predictions of the three fruit in the terminal, and the verdict
    terminal = steps["flash"]["terminal"]
    assert any(fruit in terminal for fruit in ("apple", "banana", "orange")), terminal
    assert "the board agrees with the host" in terminal, terminal
    # Show Model Report: every chart drew
    report = steps["report"]
    assert report["charts"] >= 5 and len(report["inked"]) == report["charts"], report
    assert "FULLY_CONNECTED" in report["text"]

    # the key: on no screen, in no log of VS Code's, the extension's or the server's ...
    for shot in seen["texts"]:
        assert key not in shot["text"], f"the API key is visible in {shot['name']}"
    logs = _text_files(user_data) | _text_files(tmp_path / "logs-none")
    logs[tmp_path / "code-server.log"] = (tmp_path / "code-server.log").read_text(errors="replace")
    leaked = [str(p) for p, text in logs.items() if key in text]
    assert not leaked, f"the API key is in {leaked}"
    # ... yet it reached the server: the trace of the settings it was sent shows it masked
    trace = "\n".join(t for p, t in logs.items() if "tinyml" in p.name.lower())
    assert '"apiKey": "***"' in trace or '"apiKey":"***"' in trace, "no masked key in the trace"
    assert VSIX.exists()
