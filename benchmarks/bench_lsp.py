"""The language server's responsiveness: start-up, and code actions while a job runs.

- start-up: from spawning `python -m tinyml_lsp` to the `initialize` answer (TensorFlow must
  not be imported: it alone costs seconds);
- code actions on a 1,000-line training script, sent one after another while a quantize job
  (TensorFlow in a worker) runs: each request's round trip, p50 and p99.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.demo import train_example

STARTS = 7
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


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    starts = [await startup_time() for _ in range(STARTS)]
    with tempfile.TemporaryDirectory() as tmp:
        project = train_example("fruit-to-emoji", Path(tmp) / "fruit")
        latencies, count = await code_action_latencies(project)
    ms = [1000 * v for v in latencies]
    print(f"server start-up to initialize answer: median {statistics.median(starts):.3f}s, "
          f"max {max(starts):.3f}s over {STARTS} starts")
    print(f"code actions on a 1,000-line file during a quantize job: {count} requests, "
          f"p50 {p(ms, 0.5):.1f} ms, p99 {p(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")
    print(f"server_startup_s: {statistics.median(starts):.3f} (target <= 0.5)")
    print(f"code_action_p99_ms_during_quantize: {p(ms, 0.99):.1f} (target <= 50)")


if __name__ == "__main__":
    asyncio.run(main())
