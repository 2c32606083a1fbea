"""The LLM from the editor: code actions only with an endpoint, Customize as a job whose
validated candidate arrives as a WorkspaceEdit, the key nowhere in what the server says, and
clear errors with the server staying up. The endpoint is the scripted server on loopback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import _parse_code_actions_correctly, actions_at, execute
from tests.llm.conftest import KEY, write_stub_sketch
from tests.llm.test_customize import ALERT, main_with
from tests.llm_server import Reply, ScriptedLlm, fenced
from tinyml_lsp.deploy import emulator

SCRIPTED = ScriptedLlm()  # one loopback endpoint for this module's server


@pytest.fixture(scope="module", autouse=True)
def scripted_endpoint():
    with SCRIPTED:
        yield SCRIPTED


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "tinyml_lsp"]))
async def client(lsp_client: LanguageClient):
    """VS Code's capabilities, with the endpoint and the key in the initialization options
    (where the VS Code client puts the key from its secret storage)."""
    _parse_code_actions_correctly(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options={"tinyml": {"llm": {
            "baseUrl": SCRIPTED.base_url, "model": "scripted-model", "apiKey": KEY,
            "maxRounds": 2, "retries": 1, "cache": False}}}))
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, language: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id=language, version=1, text=path.read_text())))
    return uri


def _accept_edits(client: LanguageClient) -> list[types.WorkspaceEdit]:
    received: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params.edit)
        for change in params.edit.document_changes or []:
            if isinstance(change, types.TextDocumentEdit):
                (edit,) = change.edits
                Path(change.text_document.uri.removeprefix("file://")).write_text(edit.new_text)
        return types.ApplyWorkspaceEditResult(applied=True)

    return received


def _said(client: LanguageClient) -> str:
    return "\n".join([m.message for m in client.log_messages]
                     + [m.message for m in client.messages])


@pytest.mark.emulator
async def test_customize_from_the_editor(client: LanguageClient, tmp_path: Path):
    project = write_stub_sketch(tmp_path / "stub")
    main = project / "src" / "main.c"
    uri = _open(client, main, "c")
    [action] = await actions_at(client, uri, 0)
    assert action.title == "Customize firmware (LLM)…"
    received = _accept_edits(client)
    SCRIPTED.requests.clear()
    SCRIPTED.script(Reply(status=429, headers={"Retry-After": "0"}),
                    Reply(fenced(main_with(project, in_loop=ALERT), path="src/main.c",
                                 chatter=True), prompt_tokens=1234, completion_tokens=321))
    action.command.arguments[0]["instruction"] = "print ALERT for class up"  # the input box
    try:
        result = await execute(client, action)
    finally:
        emulator.stop(project)
    assert result["success"] and result["rounds"] == 1 and result["applied"] == ["src/main.c"]
    assert (result["prompt_tokens"], result["completion_tokens"]) == (1234, 321)
    assert result["usage"]["retries"] == 1
    assert received and received[0].change_annotations["tinyml-llm"].needs_confirmation
    assert ALERT in main.read_text()
    # the key went to the endpoint, and nowhere else
    assert SCRIPTED.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    said = _said(client)
    assert "LLM: 1 call (1 retried), 1,234 prompt + 321 completion tokens" in said
    assert KEY not in said and KEY not in json.dumps(result)
    assert not any(KEY in p.read_text(errors="replace") for p in project.rglob("*")
                   if p.is_file())


async def test_bad_states_are_clear_and_the_server_stays_up(client: LanguageClient,
                                                            tmp_path: Path):
    # a customization asked for a file that is not a firmware source: no request, no change
    other = tmp_path / "notes.c"
    other.write_text("int x;\n")
    SCRIPTED.requests.clear()
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tinyml.customize", [{"uri": other.as_uri(), "instruction": "x"}])) is None
    assert any("not a firmware source" in m.message for m in client.messages)
    # a wrong key: 401, said plainly
    project = write_stub_sketch(tmp_path / "stub")
    SCRIPTED.script(Reply(status=401, error="invalid key"))
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tinyml.customize", [{"uri": (project / "src" / "main.c").as_uri(),
                              "instruction": "x"}])) is None
    assert any("refused the API key (401" in m.message for m in client.messages)
    assert len(SCRIPTED.requests) == 1 and other.read_text() == "int x;\n"
    assert KEY not in _said(client)
    # still serving
    assert await actions_at(client, (project / "src" / "main.c").as_uri(), 0) is not None


async def test_deterministic_features_make_no_llm_call(client: LanguageClient, tmp_path: Path):
    data = tmp_path / "readings.csv"
    data.write_text("a,b,label\n" + "".join(f"{i},{2 * i},{'on' if i % 2 else 'off'}\n"
                                            for i in range(12)))
    script = tmp_path / "train.py"
    script.write_text("import keras\nx = load('readings.csv')\nmodel.fit(x)\n"
                      "model.save('model.keras')\n")
    project = write_stub_sketch(tmp_path / "stub")
    SCRIPTED.requests.clear()
    uri = _open(client, script, "python")
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(1, 12)))
    assert hover is not None and "class balance: off 6 (50%), on 6 (50%)" in hover.contents.value
    titles = [a.title for line in range(4) for a in await actions_at(client, uri, line)]
    # the deterministic action reads this script: no "adapt" offered, only "quantize" and
    # preparing the dataset the script names
    assert titles == ["Prepare this dataset (LLM)…", "Quantize this model (int8)",
                      "Quantize this model (int8)"]
    ini = project / "platformio.ini"
    titles = [a.title for a in await actions_at(client, _open(client, ini, "ini"), 10)]
    assert titles == ["Build firmware", "Flash to board", "Open serial monitor"]
    assert SCRIPTED.requests == []


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "tinyml_lsp"],
    server_env={k: v for k, v in os.environ.items()
                if not k.startswith(("TINYML_LLM_", "OPENAI_"))}))
async def bare_client(lsp_client: LanguageClient):
    """An editor with no endpoint configured anywhere."""
    _parse_code_actions_correctly(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim")))
    yield
    await lsp_client.shutdown_session()


async def test_no_endpoint_no_llm_actions_and_a_clear_message(bare_client: LanguageClient,
                                                               tmp_path: Path):
    client = bare_client
    project = write_stub_sketch(tmp_path / "stub")
    uri = _open(client, project / "src" / "main.c", "c")
    assert await actions_at(client, uri, 0) == []
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tinyml.customize", [{"uri": uri, "instruction": "print more"}])) is None
    assert any("no LLM endpoint configured — the deterministic actions still work" in m.message
               for m in client.messages)
