"""Commands for a PlatformIO project: build, flash, serial monitor (thin wiring over deploy/)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.uris import from_fs_path

from tinyml_lsp.deploy import build_log, platformio
from tinyml_lsp.deploy.monitor import LineEvent, MonitorEvent
from tinyml_lsp.deploy.session import MonitorSummary, render_summary, watch
from tinyml_lsp.lsp.arguments import MonitorArguments, ProjectArguments, given
from tinyml_lsp.lsp.positions import client_range, file_lines
from tinyml_lsp.lsp.progress import register_command, run_job, show
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext

T = TypeVar("T")
SERIAL_LINE = "tinyml/serialLine"  # notification: one line of a monitored board


def publish_build_diagnostics(ls: TinymlServer, project: Path,
                              diagnostics: Iterable[platformio.Diagnostic]) -> None:
    """Compiler messages as editor diagnostics (clickable), replacing the last build's."""
    publish_placed(ls, str(project), build_log.place(list(diagnostics), project))


def publish_placed(ls: TinymlServer, key: str, placed: Iterable[build_log.Placed]) -> None:
    """Diagnostics on files, each over its token, replacing those last published for `key`
    (a project; a pasted log's folder): a build without errors clears them."""
    by_file: dict[str, list[types.Diagnostic]] = defaultdict(list)
    texts: dict[str, list[str]] = {}
    for d in placed:
        if d.file is None:
            continue
        severity = {"error": types.DiagnosticSeverity.Error,
                    "warning": types.DiagnosticSeverity.Warning}.get(
                        d.severity, types.DiagnosticSeverity.Information)
        if d.file not in texts:
            texts[d.file] = file_lines(ls, d.file)
        lines = texts[d.file]
        by_file[from_fs_path(d.file) or d.file].append(types.Diagnostic(
            range=client_range(ls, lines, d.line, d.col, d.line, d.end_col),
            message=d.message, severity=severity, source="tinyml build"))
    stale = ls.build_diagnostics.get(key, set()) - set(by_file)
    for uri in stale:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
    for uri, items in by_file.items():
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, items))
    ls.build_diagnostics[key] = set(by_file)


async def _published(ls: TinymlServer, project: Path, work: Awaitable[T],
                     diagnostics: Callable[[T], Iterable[platformio.Diagnostic]]) -> T:
    """Await a build or an upload and publish its compiler messages, failed or not."""
    try:
        result = await work
    except platformio.BuildFailed as exc:
        publish_build_diagnostics(ls, project, exc.result.diagnostics)
        raise
    publish_build_diagnostics(ls, project, diagnostics(result))
    return result


async def build(ls: TinymlServer, arguments: ProjectArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> platformio.BuildResult:
        project = Path(arguments.project)
        return await _published(ls, project, platformio.build(project, ctx, env=arguments.env),
                                lambda r: r.diagnostics)

    result = await run_job(ls, "Build firmware", task)
    if result is None:
        return None
    show(ls, types.MessageType.Info, f"Built {Path(result.elf or '').name}: flash "
         f"{result.flash_used:,} of {result.flash_total:,} bytes, RAM {result.ram_used:,} of "
         f"{result.ram_total:,} bytes")
    return result.to_json()


async def flash(ls: TinymlServer, arguments: ProjectArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> platformio.UploadResult:
        project = Path(arguments.project)
        from tinyml_lsp.deploy import replay

        # checked and staged before any build, as `tinyml flash --replay`; none removes a
        # previous replay, so the board never replays a file it was not given
        await asyncio.to_thread(replay.prepare, project, arguments.replay or [])
        return await _published(ls, project, platformio.upload(project, ctx, env=arguments.env),
                                lambda r: r.build.diagnostics)

    result = await run_job(ls, "Flash to board", task)
    if result is None:
        return None
    where = f"running under QEMU, UART on {result.port}" if result.emulated else "uploaded"
    show(ls, types.MessageType.Info, f"Flashed {Path(result.elf or '').name}: {where}")
    return result.to_json()


async def monitor(ls: TinymlServer, arguments: MonitorArguments) -> dict[str, Any] | None:
    """Stream the board's lines to the log until the run ends, the port goes, or cancel."""
    async def task(ctx: JobContext) -> MonitorSummary:
        def log(event: MonitorEvent) -> None:
            line = event.line if isinstance(event, LineEvent) else f"[monitor] {event.to_json()}"
            ctx.log(line)
            # the board's lines on their own too, for an editor's serial terminal
            ls.protocol.notify(SERIAL_LINE, {"project": arguments.project, "line": line})

        return await watch(arguments.project, ctx, on_event=log,
                           **given(arguments, "port", "until_done"))

    summary = await run_job(ls, "Serial monitor", task)
    if summary is None:
        return None
    text = render_summary(summary)
    ls.window_log_message(types.LogMessageParams(types.MessageType.Log, text))
    show(ls, types.MessageType.Info if summary.ok else types.MessageType.Error,
         f"Serial monitor closed: {text.splitlines()[0]}"
         + (f". {summary.verdict.problem or 'The board agrees with the host.'}"
            if summary.verdict else ""))
    return summary.to_json()


def register(server: TinymlServer) -> None:
    register_command(server, "tinyml.build", ProjectArguments, build)
    register_command(server, "tinyml.flash", ProjectArguments, flash)
    register_command(server, "tinyml.monitor", MonitorArguments, monitor)
