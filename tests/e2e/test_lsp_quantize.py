"""The language server end to end, as VS Code drives it: code action → quantize job."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.slow


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tinyml_lsp"]),
    params=["visual-studio-code", "neovim"],
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """The server as VS Code (1.65) and Neovim (0.11) drive it, with their recorded
    capabilities."""
    _parse_code_actions_correctly(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(request.param)))
    yield
    await lsp_client.shutdown_session()


def _parse_code_actions_correctly(client: LanguageClient) -> None:
    """lsprotocol's client-side hook reads any item with a "command" key as a Command, so a
    CodeAction that carries a command would come back as a garbled Command. Tell them apart
    the way the specification does: a Command's "command" is a string."""
    converter = client.protocol._converter

    def item(obj, _type):
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, item)
    converter.register_structure_hook(Union[types.Command, types.CodeAction], item)  # noqa: UP007


def _open(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text())))
    return uri


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines()) if needle in line)


async def _actions(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(line, 0), types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_quantize_code_action_runs_the_job(client: LanguageClient, fruit_trained: Path,
                                                 fresh_copy) -> None:
    project = fresh_copy(fruit_trained)
    script = project / "train.py"
    uri = _open(client, script)

    save_line = _line_of(script, "model.save(")
    actions = await _actions(client, uri, save_line)
    assert [a.title for a in actions] == ["Quantize this model (int8)"]
    # the fit line offers it too; an ordinary line does not
    assert await _actions(client, uri, _line_of(script, "model.fit("))
    assert await _actions(client, uri, _line_of(script, "import csv")) == []

    command = actions[0].command
    assert command is not None
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))

    int8 = project / "fruit_model_int8.tflite"
    assert int8.exists() and (project / "fruit_model_float32.tflite").exists()
    assert result["files"]["int8"] == str(int8)
    assert result["cards"]["int8"]["quantization"] == "full-integer"

    # progress: begin, at least one report, end — and nothing after the end
    reports = [r for token, rs in client.progress_reports.items() for r in rs]
    kinds = [r.kind for r in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert reports[0].cancellable is True
    assert reports[-1].message == "done"
    # the user is told where the files and the report are
    assert any("fruit_model_int8.tflite" in m.message and "report" in m.message
               for m in client.messages)
    assert any("calibrating" in m.message for m in client.log_messages)


async def test_errors_are_shown_and_the_server_stays_up(client: LanguageClient,
                                                        tmp_path: Path) -> None:
    # a training script whose model was never saved: a clear message, no crash
    script = tmp_path / "train.py"
    script.write_text("import keras\nmodel = keras.Sequential()\nmodel.save('never.keras')\n")
    uri = _open(client, script)
    actions = await _actions(client, uri, 2)
    assert actions
    command = actions[0].command
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result is None
    assert any(m.type == types.MessageType.Error and "never.keras does not exist yet" in m.message
               for m in client.messages)
    # and the server still answers
    assert await _actions(client, uri, 2)


@pytest.mark.parametrize("pause", [0.5])
async def test_cancel_kills_the_worker(client: LanguageClient, fruit_trained: Path, fresh_copy,
                                       pause: float) -> None:
    import asyncio

    project = fresh_copy(fruit_trained)
    script = project / "train.py"
    uri = _open(client, script)
    command = (await _actions(client, uri, _line_of(script, "model.save(")))[0].command
    pending = asyncio.ensure_future(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)))
    for _ in range(100):  # wait for the job to begin
        await asyncio.sleep(0.05)
        if client.progress_reports:
            break
    token = next(iter(client.progress_reports))
    await asyncio.sleep(pause)
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert await asyncio.wait_for(pending, 30) is None
    assert client.progress_reports[token][-1].message == "cancelled"
    assert not (project / "fruit_model_int8.tflite").exists()


async def test_a_bad_keras_file_is_reported(client: LanguageClient, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("import keras\nmodel = keras.Sequential()\nmodel.fit(x, y)\n"
                      "model.save('model.keras')\n")
    (tmp_path / "model.keras").write_text("garbage")
    (tmp_path / "data.npy").write_bytes(b"")
    uri = _open(client, script)
    command = (await _actions(client, uri, 3))[0].command
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result is None
    assert any(m.type == types.MessageType.Error and "model.keras" in m.message
               and "not a Keras model" in m.message for m in client.messages)
    assert (tmp_path / "model.keras").read_text() == "garbage"  # the user's file is intact
    assert await _actions(client, uri, 2)  # the server still answers
