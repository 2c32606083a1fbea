"""`tinyml check` through the language server, as VS Code and Neovim drive it: diagnostics on
open and edit, quick fixes as workspace edits, the model card on hover, the `tinyml.check`
command, and bad input that must neither crash nor stall the server."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.check.cases import CORPUS
from tests.conftest import MODELS
from tests.e2e.conftest import units
from tinyml_lsp.check.findings import Edit, apply_edits
from tinyml_lsp.check.source import Range
from tinyml_lsp.codegen.c_array import export_model
from tinyml_lsp.runtime.context import NullContext

WAIT = 60  # seconds for the first check (it measures the arena once)


@pytest.fixture(scope="module")
def header(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    asyncio.run(export_model(MODELS / "hello_world_int8.tflite", out, NullContext()))
    return out


@pytest.fixture
def project(tmp_path: Path, header: Path) -> Path:
    for f in header.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _open(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="cpp", version=version,
        text=path.read_text() if text is None else text)))
    return uri


async def _diagnostics(client: LanguageClient, uri: str, until=None,
                       timeout: float = WAIT) -> list[types.Diagnostic]:
    """The diagnostics published for `uri` (once they satisfy `until`, when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.diagnostics.get(uri)
        if found is not None and (until is None or until(list(found))):
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {uri} in {timeout} s: {client.diagnostics.get(uri)}")


async def test_diagnostics_and_quick_fix(client: LanguageClient, project: Path):
    sketch = project / "sketch.ino"
    shutil.copy(CORPUS / "d09_f_on_int8_input.ino", sketch)
    uri = _open(client, sketch)
    found = await _diagnostics(client, uri)
    assert [(d.code, d.range.start.line, d.severity) for d in found] == [
        ("tinyml/accessor-type", 25, types.DiagnosticSeverity.Error)]
    assert "int8" in found[0].message and "scale 0.0244801" in found[0].message

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=found[0].range,
        context=types.CodeActionContext(diagnostics=found)))
    fixes = [a for a in actions or [] if isinstance(a, types.CodeAction)
             and a.kind == types.CodeActionKind.QuickFix]
    assert len(fixes) == 1 and fixes[0].edit is not None and fixes[0].edit.changes
    edits = [Edit(Range(e.range.start.line, e.range.start.character, e.range.end.line,
                        e.range.end.character), e.new_text) for e in fixes[0].edit.changes[uri]]
    fixed = apply_edits(sketch.read_text(), edits)
    assert "input->data.int8[0] = (int8_t)fmaxf(" in fixed
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        [types.TextDocumentContentChangeWholeDocument(fixed)]))
    assert await _diagnostics(client, uri, until=lambda found: found == []) == []


async def test_positions_in_utf16_units_after_non_ascii_text(client: LanguageClient,
                                                               project: Path):
    """An emoji is one character but two UTF-16 units (the protocol's default; four with the
    UTF-8 Neovim negotiates): the squiggle, the quick fix and the hover must land on the code."""
    sketch = project / "sketch.ino"
    text = (CORPUS / "d09_f_on_int8_input.ino").read_text().replace(
        "  input->data.f[0] = x;", "  /* 😀 °C */ input->data.f[0] = x;")
    sketch.write_text(text)
    uri = _open(client, sketch)
    found = await _diagnostics(client, uri)
    line = text.splitlines()[25]
    at = units(client, line[:line.index("input->data.f")])
    assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == [
        ("tinyml/accessor-type", 25, at)]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=found[0].range,
        context=types.CodeActionContext(diagnostics=found)))
    fix = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.edit)
    assert fix.edit is not None and fix.edit.changes
    edits = [e for e in fix.edit.changes[uri] if e.range.start.line == 25]
    assert edits and all(e.range.start.character >= at for e in edits)

    shutil.copy(MODELS / "hello_world_int8.tflite", project / "hello.tflite")
    note = '// 😀😀😀 "hello.tflite"'
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        [types.TextDocumentContentChangeWholeDocument(text + note + "\n")]))
    # just after the closing quote, in units: read as characters, the position would be past
    # the string and show nothing
    end = units(client, note)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(len(text.splitlines()), end)))
    assert hover is not None and "FULLY_CONNECTED" in hover.contents.value  # type: ignore[union-attr]


async def test_hover_shows_the_model_card(client: LanguageClient, project: Path):
    sketch = project / "sketch.ino"
    shutil.copy(CORPUS / "c01_hello_world_arduino.ino", sketch)
    (project / "platformio.ini").write_text(
        "[env:nano]\nboard = nano33ble\n\n[env:uno]\nboard = uno\n")
    uri = _open(client, sketch)
    line = next(i for i, t in enumerate(sketch.read_text().splitlines()) if "model_data.h" in t)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, 12)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    assert "FULLY_CONNECTED" in text and "zero_point=-128" in text
    assert "1,936 bytes measured" in text
    assert "| nano | Arduino Nano 33 BLE Sense |" in text and "| fits |" in text
    assert "DOES NOT FIT" in text  # the Uno: 8-bit, 2 KB of RAM
    assert await _diagnostics(client, uri) == []  # the correct sketch stays clean


async def test_hover_on_custom_tinyml_model(client: LanguageClient, project: Path):
    shutil.copy(MODELS / "micro_speech_quantized.tflite", project / "speech.tflite")
    ini = project / "platformio.ini"
    ini.write_text("[env:qemu]\nboard = tinyml-qemu-m4\ncustom_tinyml_model = speech.tflite\n")
    uri = _open(client, ini)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(2, 25)))
    assert hover is not None and "DEPTHWISE_CONV_2D" in hover.contents.value  # type: ignore[union-attr]
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(1, 3)))
    assert nothing is None


async def test_check_command(client: LanguageClient, project: Path):
    sketch = project / "sketch.cpp"
    shutil.copy(CORPUS / "d06_arena_too_small.ino", sketch)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.check", arguments=[{"uri": sketch.as_uri()}]))
    assert result["errors"] == 1
    diagnostics = result["diagnostics"][sketch.as_uri()]
    assert diagnostics[0]["code"] == "tinyml/arena-too-small"
    by_path = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.check", arguments=[str(project)]))
    assert by_path["findings"] == 1


async def test_no_model_is_one_information(client: LanguageClient, tmp_path: Path):
    sketch = tmp_path / "alone.ino"
    shutil.copy(CORPUS / "d06_arena_too_small.ino", sketch)
    found = await _diagnostics(client, _open(client, sketch))
    assert [(d.code, d.severity) for d in found] == [
        ("tinyml/no-model", types.DiagnosticSeverity.Information)]
    assert "custom_tinyml_model" in found[0].message


async def test_bad_input_never_stalls_the_server(client: LanguageClient, project: Path):
    header_only = project / "empty_model.h"
    header_only.write_text("extern const unsigned char g_model[];\n")
    broken = project / "broken.ino"
    broken.write_text('#include "empty_model.h"\n#include <TensorFlowLite.h>\n'
                      "static tflite::MicroMutableOpResolver<2> r;\nvoid setup() { r.Add(\n"
                      "  tflite::GetModel(g_model)\n")
    found = await _diagnostics(client, _open(client, broken))
    assert [d.code for d in found] == ["tinyml/no-model"]
    assert "declares g_model but neither it nor a source file" in found[0].message

    binary = project / "blob.h"
    binary.write_bytes(b"\x00\x01\x02" * 1000)
    found = await _diagnostics(client, _open(client, binary, text="\x00\x01\x02" * 1000))
    assert [d.code for d in found] == ["tinyml/not-checked"]

    huge = project / "huge.cpp"
    uri = _open(client, huge, text="// padding\n" * 500_000)  # 5.5 MB
    found = await _diagnostics(client, uri)
    assert [d.code for d in found] == ["tinyml/not-checked"]

    # a 10,000-line sketch: other requests are answered while it is checked
    big = project / "big.ino"
    body = "".join(f"void f{i}() {{ int x{i} = {i}; }}\n" for i in range(10_000))
    shutil.copy(CORPUS / "c01_hello_world_arduino.ino", big)
    big_uri = _open(client, big, text=big.read_text() + body)
    started = time.monotonic()
    await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(big_uri), types.Position(0, 0)))
    assert time.monotonic() - started < 1.0
    assert await _diagnostics(client, big_uri) == []


async def test_a_pasted_build_log_becomes_diagnostics_then_clears(client: LanguageClient,
                                                                   tmp_path: Path):
    (tmp_path / "src").mkdir()
    main = tmp_path / "src" / "main.cpp"
    main.write_text("void setup() {\n  tflite::AllOpsResolver resolver;\n}\n")
    log = ("D:\\work\\fruit\\src\\main.cpp:2:11: error: 'AllOpsResolver' is not a member of "
           "'tflite'\n*** [.pio\\build\\nano\\src\\main.cpp.o] Error 1\n")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.buildLog", arguments=[{"log": log, "root": str(tmp_path)}]))
    assert result["errors"] == 1
    found = await _diagnostics(client, main.as_uri())
    assert [(d.range.start.line, d.range.start.character, d.range.end.character, d.severity)
            for d in found] == [(1, 10, 24, types.DiagnosticSeverity.Error)]
    ok = ("RAM:   [==        ]  17.3% (used 45412 bytes from 262144 bytes)\n"
          "Flash: [=         ]  12.5% (used 131072 bytes from 983040 bytes)\n")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.buildLog", arguments=[{"log": ok, "root": str(tmp_path)}]))
    assert result["summary"] == "flash 131,072 of 983,040 bytes, RAM 45,412 of 262,144 bytes"
    assert await _diagnostics(client, main.as_uri(), until=lambda d: d == []) == []
