"""Odd documents and bad command arguments, as VS Code and Neovim send them: an answer for
each (an empty list, or a -32602 error that says what is wrong), no popup, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.conftest import actions_at, open_document

SCRIPT = "import keras\nmodel = keras.Sequential()\nmodel.fit(x, y)\nmodel.save('m.keras')\n"


def no_popups(client: LanguageClient) -> None:
    assert [m.message for m in client.messages] == []


async def test_odd_documents_get_no_actions(client: LanguageClient, tmp_path: Path) -> None:
    folder = tmp_path / "a_folder.py"
    folder.mkdir()
    for uri in [(tmp_path / "missing.py").as_uri(), folder.as_uri(), "untitled:Untitled-1",
                "http://example.com/train.py"]:
        assert await actions_at(client, uri, 0) == [], uri
    # an untitled buffer the editor opened: no file beside which to find the model
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri="untitled:Untitled-2", language_id="python", version=1, text=SCRIPT)))
    assert await actions_at(client, "untitled:Untitled-2", 3) == []
    # a change to a document that was never opened is ignored
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(
            uri=(tmp_path / "never_opened.py").as_uri(), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=SCRIPT)]))
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    assert await actions_at(client, open_document(client, script), 3)  # still serving
    no_popups(client)


BAD_ARGUMENTS = [  # (command, its argument, what the error must say)
    ("tinyml.quantize", {}, "'uri' is missing"),
    ("tinyml.quantize", {"uri": 5}, "'uri' must be a string, not 5"),
    ("tinyml.quantize", {"uri": "file:///no/such/train.py"}, "no such file /no/such/train.py"),
    ("tinyml.quantize", {"uri": "untitled:1"}, "'uri' must be a file: URI"),
    ("tinyml.sketch", {"project": 5}, "'project' must be a string, not 5"),
    ("tinyml.sketch", {"labels": "abc"}, "'labels' must be a list"),
    ("tinyml.build", {"project": "/no/such/project"}, "no such folder /no/such/project"),
    ("tinyml.monitor", {"project": ".", "until_done": "yes"}, "must be true or false"),
    ("tinyml.flash", {"project": ".", "colour": "red"}, "unknown argument 'colour'"),
]


async def test_bad_command_arguments_are_invalid_params(client: LanguageClient,
                                                        tmp_path: Path) -> None:
    for command, argument, expected in BAD_ARGUMENTS:
        argument = {k: str(tmp_path) if v == "." else v for k, v in argument.items()}
        with pytest.raises(JsonRpcException) as raised:
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command=command, arguments=[argument]))
        assert raised.value.code == -32602, (command, argument)
        assert raised.value.message.startswith(f"{command}: ")
        assert expected in raised.value.message, raised.value.message
    no_popups(client)
    # well-typed, but no PlatformIO project there: the job says so
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.build", arguments=[{"project": str(tmp_path)}])) is None
    assert any("platformio.ini" in m.message for m in client.messages)


async def test_a_command_without_its_argument_object(client: LanguageClient) -> None:
    for arguments in (None, [], ["train.py"], [{}, {}]):
        with pytest.raises(JsonRpcException) as raised:
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="tinyml.build", arguments=arguments))
        assert raised.value.code == -32602 and "takes one argument" in raised.value.message


async def test_a_huge_document_is_not_scanned(client: LanguageClient, tmp_path: Path) -> None:
    script = tmp_path / "huge.py"
    padding = "x = 1  # padding\n" * 150_000  # 2.5 M characters
    script.write_text(SCRIPT + padding)
    uri = open_document(client, script)
    assert await actions_at(client, uri, 3) == []
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# ")]))
    assert await actions_at(client, uri, 3) == []
    said = [m.message for m in client.log_messages if "not scanned" in m.message]
    assert len(said) == 1 and "huge.py" in said[0]
    # once closed and reopened small enough, it is scanned again
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri)))
    script.write_text(SCRIPT)
    assert await actions_at(client, open_document(client, script), 3)
