"""The commands an editor's own UI calls (the VS Code client's pickers and palette): the board
table, the model report page, verify, stop a board, data summary — each answering with the
core's values, and a wrong argument with a JSON-RPC error that says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.conftest import MODELS, REPO

CHART_JS = REPO / "vscode-client" / "node_modules" / "chart.js" / "dist" / "chart.umd.js"


async def _run(client: LanguageClient, command: str, argument: dict) -> object:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=[argument]))


async def test_boards_is_the_board_table(client: LanguageClient) -> None:
    from tinyml_lsp.deploy.boards import BOARDS

    boards = await _run(client, "tinyml.boards", {})
    assert [b["id"] for b in boards] == [b.id for b in BOARDS]
    emulated = [b for b in boards if b["emulated"]]
    assert [b["id"] for b in emulated] == ["tinyml-qemu-m4"]


async def test_report_returns_the_page_with_the_chart_library(client: LanguageClient) -> None:
    if not CHART_JS.exists():
        pytest.fail("Chart.js is missing: run `make client`")
    result = await _run(client, "tinyml.report", {
        "model": str(MODELS / "hello_world_int8.tflite"), "html": True,
        "chart_js": str(CHART_JS)})
    report, page = result["report"], result["html"]
    assert report["card"]["size_bytes"] == (MODELS / "hello_world_int8.tflite").stat().st_size
    assert len(report["fit"]) == 14 and len(report["layers"]["layers"]) == 3
    assert report["tflm_arena_bytes"] > 0 and report["standalone_arena_bytes"] > 0
    assert "<title>Model report: hello_world_int8.tflite</title>" in page
    assert CHART_JS.read_text()[:200] in page  # inlined, not linked
    # without "html", the figures only
    bare = await _run(client, "tinyml.report", {"model": str(MODELS / "hello_world_int8.tflite")})
    assert bare["html"] is None and bare["report"]["card"] == report["card"]


async def test_verify_and_summary(client: LanguageClient, tmp_path: Path) -> None:
    model = str(MODELS / "hello_world_int8.tflite")
    verified = await _run(client, "tinyml.verify", {"model": model})
    assert verified["arena_bytes"] > 0 and verified["problem"] is None
    csv = tmp_path / "fruit.csv"
    csv.write_text("red,green,blue,label\n0.8,0.1,0.1,apple\n0.5,0.4,0.1,banana\n"
                   "0.6,0.3,0.1,orange\n0.7,0.2,0.1,apple\n")
    summary = await _run(client, "tinyml.summarizeData", {"path": str(csv)})
    assert "apple" in summary["text"] and "4" in summary["text"]


async def test_stop_without_a_running_board_says_so(client: LanguageClient,
                                                    tmp_path: Path) -> None:
    assert await _run(client, "tinyml.stop", {"project": str(tmp_path)}) == {"stopped": False}
    assert any("No emulated board was running" in m.message for m in client.messages)


@pytest.mark.parametrize(("command", "argument", "problem"), [
    ("tinyml.report", {"model": "/nowhere/m.tflite"}, "no such file /nowhere/m.tflite"),
    ("tinyml.report", {"model": "x", "html": "yes"}, "'html' must be true or false"),
    ("tinyml.stop", {}, "'project' is missing"),
    ("tinyml.boards", {"board": "uno"}, "unknown argument 'board'"),
])
async def test_wrong_arguments_are_named(client: LanguageClient, command: str, argument: dict,
                                         problem: str) -> None:
    with pytest.raises(JsonRpcInvalidParams, match=problem):
        await _run(client, command, argument)
