"""`tinyml.sketch` for a real board from the editor: the TFLite Micro sketch arrives the same
way as the standalone one (a WorkspaceEdit VS Code reviews, or a question Neovim asks)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import MODELS
from tests.e2e.test_lsp_sketch import _answer_like_an_editor


async def test_tflm_sketch_from_the_editor(client: LanguageClient, tmp_path: Path) -> None:
    received, asked = _answer_like_an_editor(client)
    project = tmp_path / "sketch"
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.sketch", arguments=[{
            "model": str(MODELS / "micro_speech_quantized.tflite"), "project": str(project),
            "board": "esp32-s3"}]))
    assert result["applied"], result
    assert len(received) + len(asked) == 1  # one review, whichever way the editor offers it
    header = (project / "src" / "tinyml_model.h").read_text()
    assert "MicroMutableOpResolver<kTinymlOpCount>" in header
    assert "constexpr int kTinymlOpCount = 4;" in header
    ini = (project / "platformio.ini").read_text()
    assert "[env:esp32-s3-devkitc-1]\nplatform = espressif32" in ini and "[env:emulated]" in ini
    assert (project / "src" / "main.cpp").is_file()
