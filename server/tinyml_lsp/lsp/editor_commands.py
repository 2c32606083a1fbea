"""Commands an editor's own UI needs (the VS Code client's palette and pickers), thin faces
over the core: the board table, the model report page, verify, stop a board, data summary."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp.arguments import FILE, FOLDER, PATH, arg, given
from tinyml_lsp.lsp.progress import register_command, run_job, show, warm
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext

if TYPE_CHECKING:
    from tinyml_lsp.model.verify import VerifyReport
    from tinyml_lsp.report.collect import ModelReport


@dataclass(frozen=True)
class NoArguments:
    """`tinyml.boards`: nothing."""


@dataclass(frozen=True)
class ReportArguments:
    """`tinyml.report`: a .tflite model; `html` asks for the page too, with the Chart.js file
    the editor ships (`chart_js`)."""

    model: str = arg("the .tflite model", exists=FILE)
    runtime: str | None = arg("tflm or standalone", default=None)
    reference: str | None = arg("its float model", exists=PATH, default=None)
    data: str | None = arg("a dataset file or folder", exists=PATH, default=None)
    html: bool | None = arg("true or false", default=None)
    chart_js: str | None = arg("Chart.js's dist/chart.umd.js", exists=FILE, default=None)


@dataclass(frozen=True)
class VerifyArguments:
    """`tinyml.verify`: a .tflite model in TFLite Micro's interpreter, optionally with data."""

    model: str = arg("the .tflite model", exists=FILE)
    data: str | None = arg("a dataset file or folder", exists=PATH, default=None)
    reference: str | None = arg("a float model to compare with", exists=PATH, default=None)
    arena: int | None = arg("an arena size in bytes", default=None)


@dataclass(frozen=True)
class StopArguments:
    """`tinyml.stop`: the project whose emulated board to stop."""

    project: str = arg("the PlatformIO project's folder", exists=FOLDER)


@dataclass(frozen=True)
class SummaryArguments:
    """`tinyml.summarizeData`: a dataset file or folder."""

    path: str = arg("a dataset file or folder", exists=PATH)
    label_column: str | None = arg("the CSV column holding the labels", default=None)


async def boards(ls: TinymlServer, arguments: NoArguments) -> list[dict[str, Any]]:
    from tinyml_lsp.deploy.boards import BOARDS

    return [b.to_json() for b in BOARDS]


async def report(ls: TinymlServer, arguments: ReportArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> tuple[ModelReport, str | None]:
        await warm("tinyml_lsp.report.collect")
        from tinyml_lsp.report.collect import model_report
        from tinyml_lsp.report.page import render_html

        value = await model_report(arguments.model, ctx, **given(
            arguments, "runtime", "reference", "data"))
        page = (await asyncio.to_thread(render_html, value, arguments.chart_js)
                if arguments.html else None)
        return value, page

    result = await run_job(ls, "Model report", task)
    if result is None:
        return None
    value, page = result
    return {"report": value.to_json(), "html": page}


async def verify(ls: TinymlServer, arguments: VerifyArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> VerifyReport:
        await warm("tinyml_lsp.model.verify")
        from tinyml_lsp.model.verify import verify_model

        return await verify_model(arguments.model, ctx,
                                  **given(arguments, "data", "reference", "arena"))

    result = await run_job(ls, "Verify model", task)
    if result is None:
        return None
    from tinyml_lsp.model.verify import render_verify  # imported by the task

    ls.log(types.MessageType.Info, render_verify(result))
    name = Path(arguments.model).name
    show(ls, types.MessageType.Error if result.problem else types.MessageType.Info,
         f"{name}: {result.problem}" if result.problem else
         f"{name} runs in TFLite Micro (details in the log)")
    return result.to_json()


async def stop(ls: TinymlServer, arguments: StopArguments) -> dict[str, Any]:
    from tinyml_lsp.deploy import emulator

    stopped = await asyncio.to_thread(emulator.stop, arguments.project)
    show(ls, types.MessageType.Info, f"Stopped the emulated board of {arguments.project}"
         if stopped else f"No emulated board was running for {arguments.project}")
    return {"stopped": stopped}


async def summarize_data(ls: TinymlServer, arguments: SummaryArguments) -> dict[str, Any]:
    await warm("tinyml_lsp.model.data_summary")
    from tinyml_lsp.model.data_summary import render_summary, summarize

    try:
        summary = await asyncio.to_thread(summarize, arguments.path,
                                          **given(arguments, "label_column"))
    except TinymlError as exc:
        show(ls, types.MessageType.Error, str(exc) + (f" ({exc.hint})" if exc.hint else ""))
        raise
    ls.log(types.MessageType.Info, render_summary(summary))
    return {"summary": summary.to_json(), "text": render_summary(summary)}


def register(server: TinymlServer) -> None:
    register_command(server, "tinyml.boards", NoArguments, boards)
    register_command(server, "tinyml.report", ReportArguments, report)
    register_command(server, "tinyml.verify", VerifyArguments, verify)
    register_command(server, "tinyml.stop", StopArguments, stop)
    register_command(server, "tinyml.summarizeData", SummaryArguments, summarize_data)
