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
from tests.e2e.test_lsp_sketch import _answer_like_an_editor
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
    received, _asked = _answer_like_an_editor(client)
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


async def test_cancelling_an_llm_job_aborts_its_request(client: LanguageClient, tmp_path: Path):
    import asyncio

    from tests.llm.test_data_tasks import PIPELINE_SCRIPT

    script = tmp_path / "train.py"
    script.write_text(PIPELINE_SCRIPT)
    uri = _open(client, script, "python")
    line = PIPELINE_SCRIPT.splitlines().index("model.fit(train_ds, epochs=2)")
    [adapt] = [a for a in await actions_at(client, uri, line)
               if a.title == "Adapt quantization to this script (LLM)"]
    SCRIPTED.disconnected.clear()
    SCRIPTED.requests.clear()
    SCRIPTED.script(Reply(hang=True))
    client.progress_reports.clear()
    pending = asyncio.ensure_future(execute(client, adapt))
    for _ in range(200):  # until the request reaches the endpoint
        await asyncio.sleep(0.05)
        if client.progress_reports and SCRIPTED.requests:
            break
    token = next(iter(client.progress_reports))
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert await asyncio.wait_for(pending, 30) is None
    assert client.progress_reports[token][-1].message == "cancelled"
    assert await asyncio.to_thread(SCRIPTED.disconnected.wait, 5.0)  # the HTTP request too
    assert script.read_text() == PIPELINE_SCRIPT


@pytest.mark.emulator
async def test_fix_build_errors_from_their_diagnostics(client: LanguageClient, tmp_path: Path):
    project = write_stub_sketch(tmp_path / "stub")
    main = project / "src" / "main.c"
    good = main.read_text()
    main.write_text(good.replace("board_init();", "board_init();\n    int unused = missing;"))
    uri = _open(client, main, "c")
    received, _asked = _answer_like_an_editor(client)
    try:
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            "tinyml.build", [{"project": str(project)}])) is None  # the build fails
        diagnostics = client.diagnostics[uri]
        assert diagnostics and "missing" in diagnostics[0].message
        result = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics)))
        titles = [a.title for a in result or []]
        assert titles == ["Fix build errors (LLM)", "Customize firmware (LLM)…"]
        fix = next(a for a in result if a.title == "Fix build errors (LLM)")
        SCRIPTED.requests.clear()
        SCRIPTED.script(Reply(fenced(good, path="src/main.c"), prompt_tokens=800,
                              completion_tokens=700))
        fixed = await execute(client, fix)
    finally:
        emulator.stop(project)
    assert fixed["success"] and fixed["applied"] == ["src/main.c"] and received
    assert "'missing' undeclared" in SCRIPTED.requests[0].prompt
    assert main.read_text() == good


async def test_prepare_a_dataset_from_the_editor(client: LanguageClient, tmp_path: Path):
    from tests.llm.test_data_tasks import PREPARE_SCRIPT, _fruit_csv

    _fruit_csv(tmp_path / "fruit.csv")
    script = tmp_path / "train.py"
    script.write_text("import keras\nrows = read('fruit.csv')\n")
    uri = _open(client, script, "python")
    [prepare] = await actions_at(client, uri, 1)
    assert prepare.title == "Prepare this dataset (LLM)…"
    received, _asked = _answer_like_an_editor(client)
    SCRIPTED.script(Reply(fenced(PREPARE_SCRIPT, "python", "prepare_fruit.py")))
    prepare.command.arguments[0]["purpose"] = "normalise, 20% validation"  # the input box
    result = await execute(client, prepare)
    assert isinstance(received[0].document_changes[0], types.CreateFile)
    assert result["ran"] and result["success"] and result["check"]["ok"]
    assert (tmp_path / "fruit_train.npz").is_file()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "tinyml_lsp"]))
async def neovim_client(lsp_client: LanguageClient):
    """Neovim's capabilities (no review UI for edits), with the endpoint configured."""
    _parse_code_actions_correctly(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim"),
        initialization_options={"tinyml": {"llm": {
            "baseUrl": SCRIPTED.base_url, "model": "scripted-model", "apiKey": KEY,
            "cache": False}}}))
    yield
    await lsp_client.shutdown_session()


async def test_an_editor_without_review_is_asked_first(neovim_client: LanguageClient,
                                                       tmp_path: Path):
    from tests.llm.test_data_tasks import ADAPTED, PIPELINE_SCRIPT

    client = neovim_client
    script = tmp_path / "train.py"
    script.write_text(PIPELINE_SCRIPT)
    received, asked = _answer_like_an_editor(client)
    SCRIPTED.script(Reply(fenced(ADAPTED, "python", "train.py")))
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tinyml.adaptQuantize", [{"uri": _open(client, script, "python")}]))
    assert result["success"] and result["applied"] == ["train.py"]
    assert received == [] and "apply the validated change to train.py?" in asked[0]
    assert script.read_text() == ADAPTED  # written by the server, once the user said yes
