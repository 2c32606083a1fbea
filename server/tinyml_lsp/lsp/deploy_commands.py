"""Commands for a PlatformIO project: build, flash, serial monitor (thin wiring over deploy/)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.jobs import JobContext
from tinyml_lsp.lsp.jobs import run_job, show
from tinyml_lsp.lsp.tinyml_server import TinymlServer


def _project(args: tuple[Any, ...]) -> tuple[Path, str | None]:
    request = args[0] if args and isinstance(args[0], dict) else {}
    if "project" not in request:
        raise TinymlError("the command needs a PlatformIO project folder")
    return Path(request["project"]), request.get("env")


def publish_build_diagnostics(ls: TinymlServer, project: Path, diagnostics) -> None:
    """Compiler messages as editor diagnostics (clickable), replacing the last build's."""
    by_file: dict[str, list[types.Diagnostic]] = defaultdict(list)
    for d in diagnostics:
        if not d.file or d.line is None:
            continue
        line, col = max(d.line - 1, 0), max((d.column or 1) - 1, 0)
        severity = {"error": types.DiagnosticSeverity.Error,
                    "warning": types.DiagnosticSeverity.Warning}.get(
                        d.severity, types.DiagnosticSeverity.Information)
        by_file[from_fs_path(d.file) or d.file].append(types.Diagnostic(
            range=types.Range(types.Position(line, col), types.Position(line, col + 1)),
            message=d.message, severity=severity, source="tinyml build"))
    stale = ls.build_diagnostics.get(str(project), set()) - set(by_file)
    for uri in stale:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
    for uri, items in by_file.items():
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, items))
    ls.build_diagnostics[str(project)] = set(by_file)


async def _build_or_upload(ls: TinymlServer, args: tuple[Any, ...], upload: bool):
    from tinyml_lsp.deploy import platformio

    async def task(ctx: JobContext):
        project, env = _project(args)
        try:
            if upload:
                result = await platformio.upload(project, ctx, env=env)
                build = result.build
            else:
                result = build = await platformio.build(project, ctx, env=env)
        except platformio.BuildFailed as exc:
            publish_build_diagnostics(ls, project, exc.result.diagnostics)
            raise
        publish_build_diagnostics(ls, project, build.diagnostics)
        return result

    return await run_job(ls, "Flash to board" if upload else "Build firmware", task)


async def build(ls: TinymlServer, *args: Any) -> dict[str, Any] | None:
    result = await _build_or_upload(ls, args, upload=False)
    if result is None:
        return None
    show(ls, types.MessageType.Info, f"Built {Path(result.elf or '').name}: flash "
         f"{result.flash_used:,} of {result.flash_total:,} bytes, RAM {result.ram_used:,} of "
         f"{result.ram_total:,} bytes")
    return result.to_json()


async def flash(ls: TinymlServer, *args: Any) -> dict[str, Any] | None:
    result = await _build_or_upload(ls, args, upload=True)
    if result is None:
        return None
    where = f"running under QEMU, UART on {result.port}" if result.emulated else "uploaded"
    show(ls, types.MessageType.Info, f"Flashed {Path(result.elf or '').name}: {where}")
    return result.to_json()


async def monitor(ls: TinymlServer, *args: Any) -> dict[str, Any] | None:
    """Stream the board's lines to the log until the run ends, the port goes, or cancel."""
    from tinyml_lsp.deploy.monitor import BoardError, Disconnected, Done, Inference, Monitor

    counts = {"inferences": 0, "lines": 0}
    ending: list[str] = []

    async def task(ctx: JobContext) -> dict[str, Any]:
        project, _env = _project(args)
        request = args[0]
        async with Monitor(project, port=request.get("port")) as mon:
            async for event in mon:
                line = getattr(event, "line", None)
                ctx.log(line if line is not None else f"[monitor] {event.to_json()}")
                counts["lines"] += line is not None
                if isinstance(event, Inference):
                    counts["inferences"] += 1
                    ctx.progress(None, f"{counts['inferences']} inferences; last: "
                                 f"{event.label} {event.score:.3f}")
                if isinstance(event, Done | BoardError | Disconnected):
                    ending.append(getattr(event, "reason", None) or event.line)
                    break
        return counts

    result = await run_job(ls, "Serial monitor", task)
    if result is None:
        return None
    show(ls, types.MessageType.Info, f"Serial monitor closed after {counts['inferences']} "
         f"inferences ({ending[-1] if ending else 'stopped'})")
    return {**result, "end": ending[-1] if ending else None}


def register(server: TinymlServer) -> None:
    server.command("tinyml.build")(build)
    server.command("tinyml.flash")(flash)
    server.command("tinyml.monitor")(monitor)
