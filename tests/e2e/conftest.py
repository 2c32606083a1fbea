"""The language server under test, driven as real editors drive it (pytest-lsp)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tinyml_lsp"]),
    params=["visual-studio-code", "neovim"],
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """The server as VS Code (1.65) and Neovim (0.11) drive it, with their recorded
    capabilities."""
    _parse_code_actions_correctly(lsp_client)
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(request.param)))
    ENCODINGS[id(lsp_client)] = result.capabilities.position_encoding or "utf-16"
    yield
    ENCODINGS.pop(id(lsp_client), None)
    await lsp_client.shutdown_session()


# the position encoding the server chose with each client (VS Code: UTF-16; Neovim: UTF-8)
ENCODINGS: dict[int, str] = {}


def units(client: LanguageClient, text: str) -> int:
    """The length of `text` in the position units of the client's session."""
    encoding = ENCODINGS[id(client)]
    width = {"utf-8": 1, "utf-16": 2, "utf-32": 4}[encoding]
    return len(text.encode(encoding + ("" if encoding == "utf-8" else "-le"))) // width


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


def open_document(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text())))
    return uri


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines()) if needle in line)


async def actions_at(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(line, 0), types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def execute(client: LanguageClient, action: types.CodeAction):
    assert action.command is not None
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=action.command.command, arguments=action.command.arguments))
