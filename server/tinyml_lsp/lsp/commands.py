"""Commands (`tinyml.<verb>`): thin wiring from LSP arguments to the core's tasks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp.arguments import AnalyzeArguments, ScriptArguments, given
from tinyml_lsp.lsp.code_actions import opened_file
from tinyml_lsp.lsp.progress import register_command, run_job, show, warm
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.model import training_script
from tinyml_lsp.runtime.context import JobContext

if TYPE_CHECKING:
    from tinyml_lsp.codegen.analyze import AnalyzeReport
    from tinyml_lsp.model.quantize import QuantizeResult


async def script_inputs(ls: TinymlServer, uri: str) -> tuple[Path, Path | None]:
    """The model and data a training script names (settings override the data)."""
    opened = opened_file(ls, uri)
    if opened is not None:
        doc, script_path = opened
        script = await ls.scan(uri, doc.version, doc.source)
    else:  # not open in the editor: read it from disk, off the event loop
        script_path = Path(to_fs_path(uri) or uri)
        script = await asyncio.to_thread(
            lambda: training_script.scan(script_path.read_text(errors="replace")))
    if script is None:
        raise TinymlError("this file does not train or save a Keras model", script_path)
    root = Path(ls.workspace.root_path) if ls.workspace.root_path else None
    model = training_script.resolve_model(script, script_path, root)
    if model is None:
        expected = training_script.expected_model(script, script_path)
        raise TinymlError(
            f"the model {expected.name if expected else 'this script saves'} does not exist yet",
            script_path, hint="run the training script first, then quantize")
    data_setting = ls.settings.quantize.data
    data = Path(data_setting) if data_setting else training_script.resolve_data(
        script, script_path, root)
    return model, data


def _summary(r: QuantizeResult) -> str:
    int8 = r.files.get("int8")
    parts = [f"Quantized {Path(r.model).name} → {Path(int8).name if int8 else ''}"]
    if int8 and "int8" in r.cards:
        parts.append(f"{r.cards['int8'].size_bytes:,} bytes")
    if r.arena and r.arena.arena_bytes:
        parts.append(f"TFLite Micro arena {r.arena.arena_bytes:,} bytes")
    if r.comparison:
        parts.append(f"top-1 agreement with float {100 * r.comparison.top1_agreement:.1f}%")
    return ", ".join(parts) + f". Files in {Path(r.report).parent}; report {Path(r.report).name}"


async def quantize(ls: TinymlServer, arguments: ScriptArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> QuantizeResult:
        await warm("tinyml_lsp.model.quantize")  # numpy: not at start-up, not on the loop
        from tinyml_lsp.model.quantize import quantize_model

        model, data = await script_inputs(ls, arguments.uri)
        ctx.log(f"quantizing {model}" + (f" with data {data}" if data else ""))
        return await quantize_model(model, ctx, data=data,
                                    label_column=ls.settings.quantize.label_column)

    result = await run_job(ls, "Quantize model (int8)", task)
    if result is None:
        return None
    show(ls, types.MessageType.Info, _summary(result))
    return result.to_json()


async def analyze(ls: TinymlServer, arguments: AnalyzeArguments) -> dict[str, Any] | None:
    """The per-layer analysis as a report in the log (the result holds every figure)."""
    async def task(ctx: JobContext) -> AnalyzeReport:
        await warm("tinyml_lsp.deploy.board_profile")  # numpy: not on the event loop
        from tinyml_lsp.codegen.analyze import analyze_model
        from tinyml_lsp.deploy.board_profile import analyze_on_board

        analyze = analyze_on_board if arguments.on_board else analyze_model
        return await analyze(arguments.model, ctx,
                             **given(arguments, "reference", "data", "label_column"))

    report = await run_job(ls, "Analyze model", task)
    if report is None:
        return None
    from tinyml_lsp.codegen.analyze import render_analyze  # imported by the task
    ls.window_log_message(types.LogMessageParams(types.MessageType.Info,
                                                 render_analyze(report)))
    worst = [f"#{x.index} {x.op}" for x in report.layers if x.worst]
    show(ls, types.MessageType.Info, f"{Path(report.model).name}: {len(report.layers)} layers, "
         f"{report.macs:,} MACs" + (f"; most quantization error in {', '.join(worst)}"
                                     if worst else "") + " (details in the log)")
    return report.to_json()


def register(server: TinymlServer) -> None:
    register_command(server, "tinyml.quantize", ScriptArguments, quantize)
    register_command(server, "tinyml.analyze", AnalyzeArguments, analyze)
