"""The VS Code extension, built as users install it (the .vsix), in a real VS Code: code-server
4.100.3 in headless Chromium. From the command palette, on a trained fruit-to-emoji project:
Quantize Model, Generate Inference Sketch for the emulated board (accepted in the refactor
preview), Flash to Board (the predictions in the serial terminal), Show Model Report (the page
and its charts), Customize with LLM (a scripted endpoint on loopback; the validated edit shown as
a diff and accepted). Screenshots go to .state/artifacts/<test>/. The LLM API key set through the
extension is in no log, no trace and no screen, and it reached the server (masked in the
trace)."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

import pytest

from tests.editors.vscode.code_server import code_server, drive
from tests.llm_server import Reply, ScriptedLlm, fenced

pytestmark = [pytest.mark.slow, pytest.mark.emulator]
BUDGET = 480  # seconds for the whole UI run
CUSTOMIZED = "/* customized from VS Code by the scripted LLM (tests/editors/vscode) */\n"


def _text_files(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in folder.rglob("*")
            if p.is_file() and p.suffix in (".log", ".txt", ".json", "") and p.stat().st_size < 5e7}


def test_the_extension_in_code_server(code_server_binary, fruit_trained, fresh_copy, tmp_path,
                                      artifacts):
    binary = code_server_binary
    workspace = fresh_copy(fruit_trained)
    for old in [*workspace.glob("*.tflite"), *workspace.glob("*_quantize_report.*")]:
        old.unlink()
    key = "sk-tinyml-e2e-" + secrets.token_hex(12)
    main_c = workspace / "fruit_model_firmware" / "src" / "main.c"

    def customized() -> str:  # the LLM's answer: the generated main.c, with a first line
        return CUSTOMIZED + main_c.read_text()

    llm = ScriptedLlm()  # bound at once, serving from the `with` below
    llm.responder = lambda request: Reply(fenced(customized().rstrip("\n"), path="src/main.c"))
    settings = {"tinyml.server.python": sys.executable,
                "tinyml.trace.server": "verbose",  # every message logged: the key masked
                "tinyml.llm.baseUrl": llm.base_url, "tinyml.llm.model": "scripted-model",
                "tinyml.llm.cache": False}
    with llm, code_server(binary, tmp_path, workspace, settings,
                          {"TINYML_LLM_CACHE": str(tmp_path / "llm-cache")}) as url:
        started = time.monotonic()
        returncode, seen, stderr = drive("e2e.mjs", {
            "TINYML_URL": url, "TINYML_WORKSPACE": str(workspace),
            "TINYML_ARTIFACTS": str(artifacts), "TINYML_API_KEY": key}, BUDGET + 60)
        took = time.monotonic() - started
    user_data = tmp_path / "user-data"
    assert returncode == 0, f"{seen.get('failure')}\n{stderr[-3000:]}"
    assert took < BUDGET, f"the UI run took {took:.0f} s"
    steps = seen["steps"]
    print("\n".join(f"{name}: at {s['seconds']:.1f} s" + (
        f", took {s['seconds_taken']:.1f} s" if "seconds_taken" in s else "")
        for name, s in steps.items()))

    # the status bar's click cancelled the first quantize before it wrote anything
    assert steps["cancel"]["written"] is False
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
    # the explorer's menu on a .tflite offers the model's commands
    menu = steps["menu"]["items"]
    assert {"Show Model Report", "Verify Model", "Generate Inference Sketch"} <= set(menu), menu
    # Show Model Report: every chart drew
    report = steps["report"]
    assert report["charts"] >= 5 and len(report["inked"]) == report["charts"], report
    assert "FULLY_CONNECTED" in report["text"]

    # Customize with LLM: one request, carrying the key from the secret storage; the diff
    # accepted, main.c is the validated answer
    assert len(llm.requests) == 1
    assert llm.requests[0].headers.get("authorization") == f"Bearer {key}"
    assert main_c.read_text().startswith(CUSTOMIZED)
    assert "Customize: applied" in steps["customize"]["message"]

    # the key: on no screen, in no log of VS Code's, the extension's or the server's ...
    for shot in seen["texts"]:
        assert key not in shot["text"], f"the API key is visible in {shot['name']}"
    logs = _text_files(user_data)
    logs[tmp_path / "code-server.log"] = (tmp_path / "code-server.log").read_text(errors="replace")
    leaked = [str(p) for p, text in logs.items() if key in text]
    assert not leaked, f"the API key is in {leaked}"
    # ... yet it reached the server: the trace of the settings it was sent shows it masked
    trace = "\n".join(t for p, t in logs.items() if "tinyml" in p.name.lower())
    assert '"apiKey": "***"' in trace or '"apiKey":"***"' in trace, "no masked key in the trace"
