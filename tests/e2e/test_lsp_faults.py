"""The server under faults, on the wire: shutdown and exit during a job, the server killed,
`$/cancelRequest`, bad JSON-RPC and broken framing.

A job here is a real quantize whose TensorFlow worker is busy importing TensorFlow (the Keras
file is a zip that will not load): the tests act while the worker runs and never wait for it.
"""

from __future__ import annotations

import asyncio
import signal
import zipfile
from pathlib import Path

import pytest

from tests.wire import WireServer, frame, tagged, wait_untagged

PYTHON_BUSY = "tinyml_lsp.model.convert_worker"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def workers(server: WireServer) -> list[int]:
    return [pid for pid in tagged(server.tag) if PYTHON_BUSY in _cmdline(pid)]


@pytest.fixture
def busy_project(tmp_path: Path) -> Path:
    """A training script whose model is a zip that TensorFlow will fail to load — after the
    seconds it takes to import TensorFlow."""
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as z:
        z.writestr("config.json", "{}")
    (tmp_path / "data.csv").write_text("a,b,label\n0.1,0.2,0\n0.3,0.4,1\n")
    (tmp_path / "train.py").write_text(
        "import keras\nx = load('data.csv')\nmodel.fit(x)\nmodel.save('model.keras')\n")
    return tmp_path


@pytest.fixture
async def server():
    wire = await WireServer.start()
    answering = asyncio.ensure_future(wire.answer_requests())
    yield wire
    answering.cancel()
    await wire.close()


async def start_job(server: WireServer, project: Path) -> int:
    """Start quantizing `project`'s model; the request's id once its worker is importing
    TensorFlow (seconds in which it writes nothing, so nothing tells it its parent is gone)."""
    await server.initialize()
    uri = server.open(project / "train.py")
    request = server.request("workspace/executeCommand", {
        "command": "tinyml.quantize", "arguments": [{"uri": uri, "line": 3}]})
    await server.wait_for(lambda m: m.get("method") == "$/progress"
                          and m["params"]["value"].get("message") == "loading TensorFlow")
    assert workers(server), "the quantize worker is not running"
    return request


def progress_ends(server: WireServer) -> list[str]:
    return [m["params"]["value"].get("message") for m in server.messages
            if m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end"]


async def test_shutdown_during_a_job_cancels_it_then_exit_ends_quietly(server, busy_project):
    job = await start_job(server, busy_project)
    shutdown = server.request("shutdown")
    reply = await server.response(shutdown, timeout=10)
    assert reply.get("result") is None and "error" not in reply
    # the job was answered (null: cancelled) before shutdown was, its worker is gone
    assert server.messages.index(await server.response(job)) < server.messages.index(reply)
    assert progress_ends(server) == ["cancelled"]
    assert workers(server) == []

    answered = len(server.messages)
    server.notify("exit")
    assert await server.exit_code(timeout=5) == 0
    await server.output_ended()
    assert len(server.messages) == answered and server.trailing == b""  # nothing after exit
    assert "Traceback" not in await server.stderr()
    assert wait_untagged(server.tag, timeout=5) == []  # the reaper too


async def test_exit_during_a_job_ends_the_process_and_its_children(server, busy_project):
    await start_job(server, busy_project)
    sent = len(server.messages)
    server.notify("exit")  # without shutdown: exit status 1
    assert await server.exit_code(timeout=5) == 1
    await server.output_ended()
    assert len(server.messages) == sent and server.trailing == b""
    assert "Traceback" not in await server.stderr()
    assert wait_untagged(server.tag, timeout=5) == []


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_children_die_with_the_server(server, busy_project, how):
    await start_job(server, busy_project)
    server.proc.send_signal(how)
    await server.proc.wait()
    # at once: the worker would otherwise live on until it next writes (TensorFlow's import)
    assert wait_untagged(server.tag, timeout=1.0) == []


async def test_cancel_request_cancels_the_job(server, busy_project):
    job = await start_job(server, busy_project)
    server.notify("$/cancelRequest", {"id": job})
    reply = await server.response(job)
    assert reply["error"]["code"] == -32800  # RequestCancelled
    await server.wait_for(lambda m: m.get("method") == "$/progress"
                          and m["params"]["value"]["kind"] == "end")
    assert progress_ends(server) == ["cancelled"]
    for _ in range(100):
        if not workers(server):
            break
        await asyncio.sleep(0.05)
    assert workers(server) == []
    assert await server.call("shutdown") is None  # and the server still serves


async def test_every_bad_request_gets_an_error(server, tmp_path):
    await server.initialize()
    position = {"line": -1, "character": 0}
    bad = {
        "a line of -1": ("textDocument/codeAction", {
            "textDocument": {"uri": (tmp_path / "x.py").as_uri()},
            "range": {"start": position, "end": position}, "context": {"diagnostics": []}}),
        "null params": ("textDocument/codeAction", None),
        "wrong types": ("textDocument/codeAction", {"textDocument": 5, "range": "all"}),
        "executeCommand without a command": ("workspace/executeCommand", {"arguments": []}),
    }
    for what, (method, params) in bad.items():
        reply = await server.response(server.request(method, params))
        assert reply["error"]["code"] == -32602, what
    assert "Position.line" in (await server.response(2))["error"]["message"]

    server.send_raw(b"Content-Length: 9\r\n\r\n{not json")  # framed right, not JSON
    assert (await server.wait_for(lambda m: m.get("id") is None and "error" in m)
            )["error"]["code"] == -32700
    server.notify("textDocument/didChange", {  # a document never opened: logged, ignored
        "textDocument": {"uri": (tmp_path / "never.py").as_uri(), "version": 2},
        "contentChanges": [{"text": "x = 1\n"}]})
    assert await server.call("shutdown") is None
    reply = await server.response(server.request("textDocument/hover", {}))
    assert reply["error"]["code"] == -32600  # after shutdown
    assert not [m for m in server.messages if m.get("method") == "window/showMessage"]


@pytest.mark.parametrize("garbage", [
    b"Content-Length: abc\r\n\r\n{}",
    b"\x8f\x00random bytes\xff\r\n\r\n",
    b"Content-Length: 500\r\n\r\n" + b'{"jsonrpc": "2.0", "id": 9, "method": "shutdown"}',
], ids=["bad Content-Length", "random bytes", "Content-Length too large"])
async def test_a_broken_stream_ends_the_server_with_its_reason(server, garbage):
    await server.initialize()
    server.send_raw(garbage)
    assert await server.exit_code(timeout=10) == 1
    assert "cannot be read" in await server.stderr()


async def test_messages_in_one_write_are_all_answered(server):
    await server.initialize()
    server.send_raw(frame({"jsonrpc": "2.0", "id": 50, "method": "tinyml/unknown"})
                    + frame({"jsonrpc": "2.0", "id": 51, "method": "shutdown"}))
    assert (await server.response(50))["error"]["code"] == -32601  # method not found
    assert (await server.response(51)).get("result") is None
