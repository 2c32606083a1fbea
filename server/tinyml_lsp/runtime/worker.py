"""Our Python workers (TensorFlow's converter, TFLite Micro's interpreter): both ends of their
protocol.

The parent (`run_worker`) starts `python -m MODULE`, writes one request on its stdin and reads
events from its stdout, one JSON object per line: `{"event": "progress"|"log"|"result"|"error",
...}` (a worker may send events of its own, which reach `on_event`). stderr is the worker's
noise (TensorFlow's included), of which the tail is kept for crash reports.

Requests and results are frozen dataclasses, one per kind of request, with a class attribute
`op` naming it; `cattrs` turns them into JSON and back, so each side reads typed values and no
field is re-defaulted on the way.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import cattrs

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext
from tinyml_lsp.runtime.process import signal_name, start, supervise

R = TypeVar("R")
_converter = cattrs.Converter()


class Request(Protocol):
    op: ClassVar[str]


class WorkerCrashed(TinymlError):
    """A worker died by a signal (e.g. the TFLite Micro interpreter's SIGSEGV)."""


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same numbers run to run
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- the parent's side -----------------------------------------------------------------------


async def run_worker(module: str, request: Request, result_type: type[R], ctx: JobContext, *,
                     what: str, timeout: float, path: str | Path | None = None,
                     on_event: Callable[[dict[str, Any]], None] | None = None) -> R:
    """Run `python -m module`, send it `request`, relay its events, return its result.

    `what` names the worker for people ("the TensorFlow converter"); a crash, a timeout or a
    garbled protocol becomes a TinymlError about `path`.
    """
    proc = await start([sys.executable, "-m", module], stdin=True, env=worker_env(),
                       limit=16 * 1024 * 1024)
    stderr_tail: deque[str] = deque(maxlen=20)
    result: Any = None
    error: dict[str, Any] | None = None

    async def read_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if line:
                stderr_tail.append(line)

    async def read_events() -> None:
        nonlocal result, error
        assert proc.stdout is not None
        async for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                stderr_tail.append(raw.decode(errors="replace").rstrip())
                continue
            kind = event.get("event")
            if kind == "progress":
                ctx.progress(event.get("fraction"), event.get("message", ""))
            elif kind == "log":
                ctx.log(event.get("line", ""))
            elif kind == "result":
                result = event.get("value")
            elif kind == "error":
                error = event
            if on_event is not None:
                on_event(event)

    async def talk() -> None:
        assert proc.stdin is not None
        message = {"op": request.op, **_converter.unstructure(request)}
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        await proc.stdin.drain()
        proc.stdin.close()
        await asyncio.gather(read_events(), read_stderr())

    await supervise(proc, talk(), timeout=timeout, what=what, path=path)

    if error is not None:
        raise TinymlError(error.get("message", f"{what} failed"), error.get("path", path),
                          error.get("hint"))
    if proc.returncode is not None and proc.returncode < 0:
        raise WorkerCrashed(f"{what} crashed ({signal_name(proc.returncode)})", path,
                            hint=stderr_tail[-1] if stderr_tail else None)
    if result is None:
        raise TinymlError(f"{what} exited with status {proc.returncode} without a result", path,
                          hint=" | ".join(list(stderr_tail)[-3:]) or None)
    try:
        return _converter.structure(result, result_type)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise TinymlError(f"{what} sent a malformed result ({exc})", path) from None


# --- the worker's side -----------------------------------------------------------------------


class WorkerChannel:
    """The JSON-lines channel a worker writes to; also a JobContext for the worker's code.

    On creation it moves file descriptor 1 aside so that anything else that prints (Python
    libraries, C++ code writing to stdout) lands on stderr, not in the protocol.
    """

    def __init__(self) -> None:
        sys.stdout.flush()
        self._out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, event: str, **fields: Any) -> None:
        self._out.write(json.dumps({"event": event, **fields}, default=_jsonable) + "\n")
        self._out.flush()

    def progress(self, fraction: float | None, message: str) -> None:
        self.send("progress", fraction=fraction, message=message)

    def log(self, line: str) -> None:
        self.send("log", line=line)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


Handler = Callable[[Any, WorkerChannel], Any]


def worker_main(handlers: Mapping[type, Handler]) -> int:
    """Entry point of a worker module: read the request, run its handler, send the outcome.

    `handlers` maps each request type to the function answering it. The worker then leaves
    with os._exit: its files are written and its answer sent, and TensorFlow's teardown at a
    normal exit costs the user most of a second for nothing.
    """
    channel = WorkerChannel()
    by_op = {request_type.op: (request_type, handler)  # type: ignore[attr-defined]
             for request_type, handler in handlers.items()}
    status = 1
    try:
        message = json.loads(sys.stdin.readline() or "{}")
        request_type, handler = by_op[message.pop("op", None)]
        request: Any = _converter.structure(message, request_type)
        channel.send("result", value=_converter.unstructure(handler(request, channel)))
        status = 0
    except TinymlError as exc:
        channel.send("error", **exc.to_json())
    except Exception as exc:  # a bug: keep the traceback on stderr for the log
        traceback.print_exc()
        channel.send("error", message=f"internal error in worker: {type(exc).__name__}: {exc}")
    sys.stderr.flush()
    os._exit(status)
