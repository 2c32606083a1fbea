"""The language server end to end, as VS Code drives it: code action → quantize job."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import actions_at, line_of, open_document

pytestmark = pytest.mark.slow


def _unquantized(project: Path) -> Path:
    """The trained project as before any quantization (another test may have quantized the
    shared one already), so that these tests see the files being written."""
    for generated in [*project.glob("*.tflite"), *project.glob("*_quantize_report.*"),
                      *project.glob("*.labels.txt")]:
        generated.unlink()
    return project


async def test_quantize_code_action_runs_the_job(client: LanguageClient, fruit_trained: Path,
                                                 fresh_copy) -> None:
    project = _unquantized(fresh_copy(fruit_trained))
    script = project / "train.py"
    uri = open_document(client, script)

    save_line = line_of(script, "model.save(")
    actions = await actions_at(client, uri, save_line)
    assert [a.title for a in actions] == ["Quantize this model (int8)"]
    # the fit line offers it too; an ordinary line does not
    assert await actions_at(client, uri, line_of(script, "model.fit("))
    assert await actions_at(client, uri, line_of(script, "import csv")) == []

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
    uri = open_document(client, script)
    actions = await actions_at(client, uri, 2)
    assert actions
    command = actions[0].command
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result is None
    assert any(m.type == types.MessageType.Error and "never.keras does not exist yet" in m.message
               for m in client.messages)
    # and the server still answers
    assert await actions_at(client, uri, 2)


@pytest.mark.parametrize("pause", [0.5])
async def test_cancel_kills_the_worker(client: LanguageClient, fruit_trained: Path, fresh_copy,
                                       pause: float) -> None:
    import asyncio

    project = _unquantized(fresh_copy(fruit_trained))
    script = project / "train.py"
    uri = open_document(client, script)
    command = (await actions_at(client, uri, line_of(script, "model.save(")))[0].command
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
    uri = open_document(client, script)
    command = (await actions_at(client, uri, 3))[0].command
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result is None
    assert any(m.type == types.MessageType.Error and "model.keras" in m.message
               and "not a Keras model" in m.message for m in client.messages)
    assert (tmp_path / "model.keras").read_text() == "garbage"  # the user's file is intact
    assert await actions_at(client, uri, 2)  # the server still answers


async def test_a_late_cancel_leaves_no_outputs(client: LanguageClient, fruit_trained: Path,
                                               fresh_copy) -> None:
    """Cancelled in its last stage (the int8 model already converted, being checked in TFLite
    Micro), quantize leaves nothing: no model, no report, no half-written file."""
    import asyncio

    project = _unquantized(fresh_copy(fruit_trained))
    before = sorted(p.name for p in project.iterdir())
    script = project / "train.py"
    uri = open_document(client, script)
    line = line_of(script, "model.save(")
    command = (await actions_at(client, uri, line))[0].command
    pending = asyncio.ensure_future(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)))

    def last_stage() -> str | None:
        return next((token for token, reports in client.progress_reports.items()
                     if any((r.message or "").startswith("checking the int8 model")
                            for r in reports)), None)

    for _ in range(6000):
        if (token := last_stage()) is not None:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("quantize never reached its last stage")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert await asyncio.wait_for(pending, 30) is None
    assert client.progress_reports[token][-1].message == "cancelled"
    assert sorted(p.name for p in project.iterdir()) == before
    # so the line offers no sketch of a model that is not there
    assert [a.title for a in await actions_at(client, uri, line)] == [
        "Quantize this model (int8)"]
