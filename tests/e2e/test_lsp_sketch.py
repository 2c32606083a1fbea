"""'Generate inference sketch' from the editor — a WorkspaceEdit VS Code reviews and applies,
or a question Neovim asks before the server writes the files — then the project builds, flashes
and runs on the emulated board from the same editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import MODELS
from tests.e2e.conftest import actions_at, execute, line_of, open_document
from tinyml_lsp.deploy import emulator

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def _answer_like_an_editor(client: LanguageClient
                           ) -> tuple[list[types.WorkspaceEdit], list[str]]:
    """Answer workspace/applyEdit as an editor does (create the files, apply the text), and
    window/showMessageRequest as a user who accepts does; what was received."""
    received: list[types.WorkspaceEdit] = []
    asked: list[str] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        asked.append(params.message)
        return (params.actions or [None])[0]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params.edit)
        for change in params.edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = Path(change.uri.removeprefix("file://"))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            elif isinstance(change, types.TextDocumentEdit):
                path = Path(change.text_document.uri.removeprefix("file://"))
                (edit,) = change.edits
                # our edits insert into an empty file or replace the whole file
                path.write_text(edit.new_text)
        return types.ApplyWorkspaceEditResult(applied=True)

    return received, asked


async def test_sketch_flash_monitor_from_the_editor(client: LanguageClient, fruit_quantized,
                                                    fruit_trained: Path, fresh_copy) -> None:
    received, asked = _answer_like_an_editor(client)
    reviews = bool(client.capabilities.workspace.workspace_edit.change_annotation_support)
    project = fresh_copy(fruit_trained)
    script = project / "train.py"
    uri = open_document(client, script)
    actions = await actions_at(client, uri, line_of(script, "model.save("))
    assert [a.title for a in actions] == ["Quantize this model (int8)",
                                          "Generate inference sketch (emulated board)"]
    result = await execute(client, actions[1])
    firmware = project / "fruit_model_firmware"
    assert result["applied"] and result["project"] == str(firmware)
    files = ["platformio.ini", "src/main.c", "src/model.c", "src/model.h", "src/test_vectors.h",
             "src/tinyml_report.h", "tinyml_expected.json"]
    assert sorted(result["files"]) == files and result["unsaved"] == []
    if reviews:  # VS Code: an edit with file creations, for review
        creates = [c for c in received[0].document_changes if isinstance(c, types.CreateFile)]
        assert sorted(Path(c.uri).name for c in creates) == sorted(Path(f).name for f in files)
        assert received[0].change_annotations["tinyml-sketch"].needs_confirmation
    else:  # Neovim: asked first, then written by the server
        assert received == [] and len(asked) == 1
        assert f"write {len(files)} files to {firmware}" in asked[0]
    for f in files:  # on disk, each ending in one newline
        text = (firmware / f).read_text()
        assert text.endswith("\n") and not text.endswith("\n\n"), f
    assert any(m.message.startswith(f"Inference sketch in {firmware}") for m in client.messages)
    assert "model_invoke" in (firmware / "src" / "model.c").read_text()
    # the data the script trains on gave the test vectors and the class names
    vectors = (firmware / "src" / "test_vectors.h").read_text()
    assert '"apple", "banana", "orange"' in vectors

    # again: the generated files are replaced in place, the user's own files are kept
    (firmware / "src" / "main.c").write_text((firmware / "src" / "main.c").read_text()
                                             + "/* my change */\n")
    again = await execute(client, actions[1])
    assert again["kept"] == ["platformio.ini", "src/main.c"]
    if reviews:
        assert not any(isinstance(c, types.CreateFile) for c in received[1].document_changes)
    else:
        assert "Kept as they are: platformio.ini, src/main.c" in asked[1]
    assert (firmware / "src" / "main.c").read_text().endswith("/* my change */\n")

    # the project's platformio.ini offers flashing and the monitor, which read the board
    ini = firmware / "platformio.ini"
    ini_uri = open_document(client, ini)
    _build, flash, monitor = await actions_at(client, ini_uri, line_of(ini, "[env:"))
    try:
        assert (await execute(client, flash))["emulated"]
        read = await execute(client, monitor)
    finally:
        emulator.stop(firmware)
    assert read["inferences"] == 16 and read["end"] == "TINYML DONE count=16"
    # the monitor judged the board against the host's outputs, and said so
    assert read["verdict"]["ok"] and read["verdict"]["equal"] == 16
    assert any("board agrees with the host" in m.message for m in client.messages)


async def test_weights_budget_from_the_editor(client: LanguageClient, tmp_path: Path) -> None:
    """`weights_budget` (VS Code's tinyml.standalone.weightsBudget): int16 weights in model.c;
    a budget that is no ratio is refused with the reason, and nothing is written."""
    _answer_like_an_editor(client)
    model = MODELS / "person_detect.tflite"
    refused = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.sketch", arguments=[{"model": str(model), "project": str(tmp_path / "a"),
                                             "weights_budget": 0.5}]))
    assert refused is None and not (tmp_path / "a").exists()
    assert any("weights budget is a ratio from 1" in m.message for m in client.messages)
    done = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.sketch", arguments=[{"model": str(model), "project": str(tmp_path / "b"),
                                             "weights_budget": 2.1}]))
    assert done["applied"]
    source = (tmp_path / "b" / "src" / "model.c").read_text()
    assert source.count("static const int16_t op") >= 5
