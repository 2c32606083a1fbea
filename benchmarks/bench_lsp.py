"""The language server's responsiveness and its end: start-up, code actions while a job runs,
event-loop stalls, exit and the death of the server during a job.

- start-up: from spawning `python -m tinyml_lsp` to the `initialize` answer (TensorFlow must
  not be imported: it alone costs seconds);
- code actions on a 1,000-line training script, sent one after another while a quantize job
  (TensorFlow in a worker) runs: each request's round trip, p50 and p99;
- the worst event-loop stall (how late the server's own 5 ms timer fired, reported by the
  server at exit with TINYML_REPORT_STALLS) during a session that opens a 20 MB script, types
  in it, asks for code actions, and runs the session's first quantize;
- from `exit` to the end of the process while a quantize job runs (its worker busy);
- child processes left alive 1 s after the server is killed (SIGTERM, SIGKILL) during a job.
"""

from __future__ import annotations

import asyncio
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.demo import train_example
from tests.wire import WireServer, tagged, wait_untagged

STARTS = 7
KILLS = 3  # server deaths per signal
HUGE = 20_000_000  # characters of the big script
SERVER = [sys.executable, "-m", "tinyml_lsp"]


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("bench", "1")
        self.progress_kinds: list[str] = []

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            self.progress_kinds.append(params.value.get("kind") if isinstance(
                params.value, dict) else params.value.kind)

        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE):
            self.feature(method)(lambda params: None)


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))


async def startup_time() -> float:
    client = Client()
    start = time.perf_counter()
    await client.start_io(*SERVER)
    await client.initialize_async(types.InitializeParams(capabilities=capabilities()))
    elapsed = time.perf_counter() - start
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return elapsed


async def code_action_latencies(project: Path) -> tuple[list[float], int]:
    script = project / "train.py"
    text = script.read_text()
    filler = "\n".join(f"feature_{i} = scale({i}) * 0.5  # padding line {i}"
                       for i in range(1000 - len(text.splitlines())))
    text = text.replace("\n\ndef main()", f"\n\n{filler}\n\n\ndef main()")
    script.write_text(text)
    save_line = next(i for i, ln in enumerate(text.splitlines()) if "model.save(" in ln)

    client = Client()
    await client.start_io(*SERVER)
    await client.initialize_async(types.InitializeParams(capabilities=capabilities()))
    uri = script.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python", 1, text)))
    params = types.CodeActionParams(
        types.TextDocumentIdentifier(uri),
        types.Range(types.Position(save_line, 0), types.Position(save_line, 0)),
        types.CodeActionContext(diagnostics=[]))
    job = asyncio.ensure_future(client.workspace_execute_command_async(
        types.ExecuteCommandParams("tinyml.quantize", [{"uri": uri, "line": save_line}])))
    while "begin" not in client.progress_kinds:
        await asyncio.sleep(0.01)
    latencies = []
    while "end" not in client.progress_kinds:
        start = time.perf_counter()
        await client.text_document_code_action_async(params)
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.005)  # a keystroke's pace, not a flood
    await job
    count = len(latencies)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, count


async def _job_running(server: WireServer, project: Path) -> None:
    """Initialize, open the script and start quantizing; return once the worker runs."""
    await server.initialize()
    script = project / "train.py"
    uri = server.open(script)
    line = next(i for i, ln in enumerate(script.read_text().splitlines()) if "model.save(" in ln)
    server.request("workspace/executeCommand", {"command": "tinyml.quantize",
                                                "arguments": [{"uri": uri, "line": line}]})
    while not any(b"convert_worker" in _cmdline(pid) for pid in tagged(server.tag)):
        await asyncio.sleep(0.02)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


async def exit_during_job(project: Path) -> float:
    server = await WireServer.start()
    answering = asyncio.ensure_future(server.answer_requests())
    try:
        await _job_running(server, project)
        start = time.perf_counter()
        server.notify("exit")
        await server.proc.wait()
        return time.perf_counter() - start
    finally:
        answering.cancel()
        await server.close()


async def orphans_after(project: Path, how: signal.Signals) -> int:
    server = await WireServer.start()
    answering = asyncio.ensure_future(server.answer_requests())
    try:
        await _job_running(server, project)
        server.proc.send_signal(how)
        await server.proc.wait()
        return len(wait_untagged(server.tag, timeout=1.0))
    finally:
        answering.cancel()
        await server.close()


async def worst_stall(project: Path) -> tuple[float, float]:
    """The server's worst event-loop stall (ms) during a session with a 20 MB script and a
    first quantize; and the slowest code action on the small script meanwhile (ms)."""
    server = await WireServer.start(env={"TINYML_REPORT_STALLS": "1"})
    answering = asyncio.ensure_future(server.answer_requests())
    try:
        huge = project / "huge_train.py"
        line = "feature_42 = scale(42) * 0.5  # a padding line of a very long script\n"
        huge.write_text("import keras\n" + line * (HUGE // len(line)) + "model.save('m.keras')\n")
        await server.initialize()
        huge_uri = server.open(huge)
        for version in range(2, 12):  # keystrokes in the big file
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": huge_uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": 1, "character": 0},
                                              "end": {"line": 1, "character": 0}},
                                    "text": "x"}]})
            await server.call("textDocument/codeAction", _action_params(huge_uri, 1))
        await _job_running(server, project)  # the session's first quantize
        slowest = 0.0
        script_uri = (project / "train.py").as_uri()
        while not any(m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end"
                      for m in server.messages):
            start = time.perf_counter()
            await server.call("textDocument/codeAction", _action_params(script_uri, 0))
            slowest = max(slowest, time.perf_counter() - start)
            await asyncio.sleep(0.01)
        await server.call("shutdown")
        server.notify("exit")
        await server.proc.wait()
        report = re.search(r"worst event-loop stall ([\d.]+) ms", await server.stderr())
        assert report is not None, "the server did not report its stalls"
        return float(report[1]), 1000 * slowest
    finally:
        answering.cancel()
        await server.close()


def _action_params(uri: str, line: int) -> dict:
    position = {"line": line, "character": 0}
    return {"textDocument": {"uri": uri}, "range": {"start": position, "end": position},
            "context": {"diagnostics": []}}


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    starts = [await startup_time() for _ in range(STARTS)]
    with tempfile.TemporaryDirectory() as tmp:
        project = train_example("fruit-to-emoji", Path(tmp) / "fruit")
        stall, slowest_action = await worst_stall(project)
        latencies, count = await code_action_latencies(project)
        exits = [await exit_during_job(project) for _ in range(KILLS)]
        orphans = {how.name: [await orphans_after(project, how) for _ in range(KILLS)]
                   for how in (signal.SIGTERM, signal.SIGKILL)}
    ms = [1000 * v for v in latencies]
    print(f"server start-up to initialize answer: median {statistics.median(starts):.3f}s, "
          f"max {max(starts):.3f}s over {STARTS} starts")
    print(f"code actions on a 1,000-line file during a quantize job: {count} requests, "
          f"p50 {p(ms, 0.5):.1f} ms, p99 {p(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")
    print(f"session with a 20 MB script and a first quantize: worst event-loop stall "
          f"{stall:.1f} ms; slowest code action on the small script {slowest_action:.1f} ms")
    print(f"exit during a quantize job to process end: {', '.join(f'{e:.3f}' for e in exits)} s")
    for name, counts in orphans.items():
        print(f"children alive 1 s after {name} of the server during a job: {counts}")
    print(f"server_startup_s: {statistics.median(starts):.3f} (target <= 0.5)")
    print(f"code_action_p99_ms_during_quantize: {p(ms, 0.99):.1f} (target <= 50)")
    print(f"event_loop_worst_stall_ms_20mb_doc_first_quantize: {stall:.1f} (target <= 50)")
    print(f"exit_to_process_end_during_job_s: {max(exits):.3f} (target <= 1)")
    print(f"orphans_after_sigterm_sigkill: {sum(map(sum, orphans.values()))} (target 0)")


if __name__ == "__main__":
    asyncio.run(main())
