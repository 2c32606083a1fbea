"""Code actions: what the lightbulb offers on a line.

Listing must stay cheap (it runs on every cursor move): a cached line scan of the document and
at most a few file-existence checks; every action is a command that does the work as a job.
Only documents the editor has opened, on disk (`file:`), are looked at: anything else (a
folder, an `untitled:` buffer, a document too big to keep) gets no actions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from tinyml_lsp import artifacts
from tinyml_lsp.deploy.project_ini import env_at, scan_ini
from tinyml_lsp.lsp.arguments import (
    MonitorArguments,
    ProjectArguments,
    ScriptArguments,
    SketchArguments,
)
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.model import training_script

QUANTIZE_TITLE = "Quantize this model (int8)"
BUILD_TITLE = "Build firmware"
FLASH_TITLE = "Flash to board"
MONITOR_TITLE = "Open serial monitor"
SKETCH_TITLE = "Generate inference sketch (emulated board)"
Provider = Callable[[TinymlServer, types.CodeActionParams], Awaitable[list[types.CodeAction]]]
# more actions, offered after these: the LLM's (llm_commands registers them)
PROVIDERS: list[Provider] = []


def _action(title: str, command: str, arguments: Any) -> types.CodeAction:
    """A lightbulb action running `command` with its typed `arguments` (None fields left out)."""
    argument = {k: v for k, v in asdict(arguments).items() if v is not None}
    # no kind: these belong in the lightbulb, not in a refactor or source menu
    return types.CodeAction(title=title, command=types.Command(
        title=title, command=command, arguments=[argument]))


def opened_file(ls: TinymlServer, uri: str) -> tuple[TextDocument, Path] | None:
    """The document the editor opened at `uri` and its path, if it is a file on disk."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return (doc, Path(path)) if doc is not None and path else None


async def _python_actions(ls: TinymlServer, uri: str, line: int) -> list[types.CodeAction]:
    opened = opened_file(ls, uri)
    if opened is None:
        return []
    doc, script_path = opened
    script = await ls.scan(uri, doc.version, doc.source)
    if script is None or script.site_on(line) is None:
        return []
    actions = [_action(QUANTIZE_TITLE, "tinyml.quantize", ScriptArguments(uri, line))]
    # once quantized: the int8 model beside the Keras one (a stat or two, no parsing)
    model = training_script.resolve_model(script, script_path, None)
    int8 = artifacts.quantized_model(model, "int8") if model else None
    if model is not None and int8 is not None and int8.is_file():
        actions.append(_action(SKETCH_TITLE, "tinyml.sketch", SketchArguments(
            uri=uri, model=str(int8), project=str(artifacts.firmware_project(model)))))
    return actions


def _platformio_actions(ls: TinymlServer, uri: str, line: int) -> list[types.CodeAction]:
    opened = opened_file(ls, uri)
    if opened is None:
        return []
    doc, path = opened
    env = env_at(scan_ini(doc.source), line)
    if env is None or env.model is None:  # only projects that name their model
        return []
    project = str(path.parent)
    return [_action(BUILD_TITLE, "tinyml.build", ProjectArguments(project, env.name)),
            _action(FLASH_TITLE, "tinyml.flash", ProjectArguments(project, env.name)),
            _action(MONITOR_TITLE, "tinyml.monitor", MonitorArguments(project, env.name))]


async def code_actions(ls: TinymlServer,
                       params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    line = params.range.start.line
    actions: list[types.CodeAction] = []
    if uri.endswith(".py"):
        actions = await _python_actions(ls, uri, line)
    elif uri.endswith("platformio.ini"):
        actions = _platformio_actions(ls, uri, line)
    for provider in PROVIDERS:  # after the deterministic ones
        actions += await provider(ls, params)
    return actions


def register(server: TinymlServer) -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION)(code_actions)
