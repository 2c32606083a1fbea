"""`tinyml check` in the editor: diagnostics on sketches and platformio.ini as they are opened
and edited, their quick fixes as code actions, the model card on hover, and the command
`tinyml.check` (a file or folder → its findings, published and returned).

A check runs after a short quiet spell (each edit restarts the wait), as a task of its own: the
parse and the rules in a thread, the arena in a child process; a newer edit cancels it. Nothing
waits for it, so a 10,000-line sketch never holds up another request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import converters, types
from pygls.uris import from_fs_path, to_fs_path

from tinyml_lsp.check.findings import Finding
from tinyml_lsp.check.ini import INI_NAME
from tinyml_lsp.check.sketch import SKETCH_SUFFIXES
from tinyml_lsp.check.source import Range
from tinyml_lsp.check.task import check_path, check_text
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp import code_actions
from tinyml_lsp.lsp.arguments import FILE_URI, PATH, arg, parse_arguments
from tinyml_lsp.lsp.positions import client_range, file_lines
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import NullContext

log = logging.getLogger(__name__)

_CONVERTER = converters.get_converter()
DEBOUNCE = 0.3  # seconds of quiet after an edit before the check runs
SOURCE = "tinyml"
_SEVERITY = {"error": types.DiagnosticSeverity.Error,
             "warning": types.DiagnosticSeverity.Warning,
             "information": types.DiagnosticSeverity.Information,
             "hint": types.DiagnosticSeverity.Hint}


@dataclass(frozen=True)
class CheckArguments:
    """`tinyml.check`: a document (`uri`) or a file or folder (`path`)."""

    uri: str | None = arg("a sketch's or platformio.ini's file: URI", exists=FILE_URI,
                          default=None)
    path: str | None = arg("a sketch, a platformio.ini or a project folder", exists=PATH,
                           default=None)
    model: str | None = arg("the .tflite the sketch runs", default=None)
    board: str | None = arg("a board name", default=None)


class Checks:
    """The last findings per document, and the check running for each."""

    def __init__(self) -> None:
        self.findings: dict[str, tuple[int | None, list[Finding]]] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}


_checks = Checks()


def checked(uri: str) -> bool:
    name = unquote(uri).rsplit("/", 1)[-1]
    return uri.startswith("file:") and (name == INI_NAME or name.endswith(SKETCH_SUFFIXES))


def _lsp_range(ls: TinymlServer, r: Range, lines: list[str]) -> types.Range:
    return client_range(ls, lines, r.line, r.col, r.end_line, r.end_col)


def diagnostic(ls: TinymlServer, f: Finding, lines: list[str]) -> types.Diagnostic:
    return types.Diagnostic(range=_lsp_range(ls, f.range, lines), message=f.message,
                            severity=_SEVERITY.get(f.severity), code=f.code, source=SOURCE)


def _publish(ls: TinymlServer, uri: str, version: int | None, findings: list[Finding]) -> None:
    _checks.findings[uri] = (version, findings)
    lines = file_lines(ls, to_fs_path(uri) or uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri, [diagnostic(ls, f, lines) for f in findings], version))


def _on_document(ls: TinymlServer, event: str, uri: str) -> None:
    if not checked(uri):
        return
    if (running := _checks.tasks.pop(uri, None)) is not None:
        running.cancel()
    if event == "close":
        _checks.findings.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        return
    if event == "oversized":
        first = Range(0, 0, 0, 0)
        _publish(ls, uri, None, [Finding(to_fs_path(uri) or uri, first, "tinyml/not-checked",
                                         "information", "not checked: the file is too big "
                                         "to be a sketch")])
        return
    _checks.tasks[uri] = asyncio.ensure_future(
        _check_later(ls, uri, 0.0 if event == "open" else DEBOUNCE))


async def _check_later(ls: TinymlServer, uri: str, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
        doc = ls.workspace.text_documents.get(unquote(uri))
        path = to_fs_path(uri)
        if doc is None or not path:
            return
        version, text = doc.version, doc.source
        report = await check_text(Path(path), text, NullContext())
        current = ls.workspace.text_documents.get(unquote(uri))
        if current is None or current.version != version:
            return  # edited meanwhile: that edit's check will publish
        _publish(ls, uri, version, [f for f in report.findings if f.file == path])
    except asyncio.CancelledError:
        raise
    except TinymlError as exc:
        ls.log(types.MessageType.Warning, f"tinyml check {uri}: {exc}")
    except Exception:  # a bug: logged, the server keeps serving
        log.exception("tinyml check failed on %s", uri)
    finally:
        if _checks.tasks.get(uri) is asyncio.current_task():
            _checks.tasks.pop(uri, None)


async def quick_fixes(ls: TinymlServer,
                      params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    stored = _checks.findings.get(uri)
    if stored is None:
        return []
    want = params.range
    actions = []
    for f in stored[1]:
        if f.fix is None or f.range.end_line < want.start.line or f.range.line > want.end.line:
            continue
        lines = file_lines(ls, f.file)
        changes: dict[str, list[types.TextEdit]] = {}
        for e in f.fix.edits:  # a fix may also edit a header the sketch includes
            other = e.file if e.file and e.file != f.file else None
            where = from_fs_path(other) if other else uri
            changes.setdefault(where or uri, []).append(types.TextEdit(
                _lsp_range(ls, e.range, file_lines(ls, other) if other else lines), e.new_text))
        actions.append(types.CodeAction(
            title=f.fix.title, kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic(ls, f, lines)], is_preferred=True,
            edit=types.WorkspaceEdit(changes=changes)))
    return actions


async def hover(ls: TinymlServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    doc = ls.workspace.text_documents.get(unquote(uri))
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if doc is None or not path or not checked(uri):
        return None
    lines = doc.source.splitlines()
    if params.position.line >= len(lines):
        return None
    from tinyml_lsp.check.hover import hover_markdown

    at = ls.workspace.position_codec.position_from_client_units(doc.lines, params.position)
    try:
        text = await hover_markdown(Path(path), lines[params.position.line], at.character,
                                    doc.source if Path(path).name == INI_NAME else None)
    except TinymlError as exc:
        text = f"tinyml: {exc.message}"
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


async def check_command(ls: TinymlServer, *raw: Any) -> dict[str, Any]:
    """`tinyml.check`: `{uri}`, `{path}` or a bare path; the findings, also published for the
    documents the editor has open."""
    if raw and isinstance(raw[0], str):  # a bare path or URI
        value = raw[0]
        raw = ({"uri": value} if value.startswith("file:") else {"path": value},)
    arguments = parse_arguments("tinyml.check", CheckArguments, raw)
    target = arguments.path or to_fs_path(arguments.uri or "") or ""
    with ls.jobs.track(ls.protocol.msg_id):
        doc = ls.workspace.text_documents.get(unquote(arguments.uri)) if arguments.uri else None
        try:
            if doc is not None:
                from tinyml_lsp.check.task import CheckReport

                report = CheckReport((await check_text(
                    Path(target), doc.source, NullContext(),
                    model=Path(arguments.model) if arguments.model else None,
                    board=arguments.board),))
            else:
                report = await check_path(target, NullContext(), model=arguments.model,
                                          board=arguments.board)
        except TinymlError as exc:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, str(exc)))
            return {"error": str(exc)}
    by_uri: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_uri.setdefault(from_fs_path(f.file) or f.file, []).append(f)
    for uri, found in by_uri.items():
        opened = ls.workspace.text_documents.get(unquote(uri))
        if opened is not None:
            _publish(ls, uri, opened.version, found)
    return report.to_json() | {"diagnostics": {
        uri: [_CONVERTER.unstructure(diagnostic(ls, f, file_lines(ls, found[0].file)))
              for f in found]
        for uri, found in by_uri.items()}}


def register(server: TinymlServer) -> None:
    server.document_listeners.append(lambda event, uri: _on_document(server, event, uri))
    if quick_fixes not in code_actions.PROVIDERS:
        code_actions.PROVIDERS.append(quick_fixes)
    server.command("tinyml.check")(check_command)

