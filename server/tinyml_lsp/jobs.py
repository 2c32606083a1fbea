"""Long tasks and their child processes.

A task is an async function of the core taking a `JobContext`. Cancellation is asyncio's: the
LSP face cancels the task when the user presses cancel, the CLI face when the user presses
Ctrl-C; `run_worker` then kills the child's whole process group before re-raising.

Our Python workers speak JSON lines on stdout (`{"event": "progress"|"log"|"result"|"error"}`)
and keep stderr for noise (TensorFlow's included), of which the tail is kept for crash reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from tinyml_lsp.errors import TinymlError


class WorkerCrashed(TinymlError):
    """A child process died by a signal (e.g. the TFLite Micro interpreter's SIGSEGV)."""


class JobContext(Protocol):
    def progress(self, fraction: float | None, message: str) -> None:
        """Report how far the task is (0..1, or None when unknown) and what it is doing."""

    def log(self, line: str) -> None:
        """One line for the user's log (LSP log message, CLI stderr)."""


class SilentContext:
    """A context that keeps what it is told; used by tests and quick reads."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def progress(self, fraction: float | None, message: str) -> None:
        self.events.append(("progress", (fraction, message)))

    def log(self, line: str) -> None:
        self.events.append(("log", line))


class Stage:
    """A part of a task: maps the part's own 0..1 progress into [start, end] of the whole."""

    def __init__(self, ctx: JobContext, start: float, end: float) -> None:
        self.ctx, self.start, self.end = ctx, start, end

    def progress(self, fraction: float | None, message: str) -> None:
        scaled = None if fraction is None else self.start + (self.end - self.start) * fraction
        self.ctx.progress(scaled, message)

    def log(self, line: str) -> None:
        self.ctx.log(line)


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same numbers run to run
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def kill_group(proc: asyncio.subprocess.Process) -> None:
    """Kill a child started with start_new_session=True and everything it started."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


async def supervise(proc: asyncio.subprocess.Process, work: Awaitable[Any], *,
                    timeout: float, what: str, path: str | Path | None = None) -> Any:
    """Await `work` (reading the child's output, usually) and the child's exit, within
    `timeout`. Whatever happens — done, timeout, error or cancellation — the child's whole
    process group is gone afterwards."""
    try:
        async with asyncio.timeout(timeout):
            result = await work
            await proc.wait()
            return result
    except TimeoutError:
        raise TinymlError(f"{what} did not finish within {timeout:.0f} s and was stopped",
                          path) from None
    finally:
        kill_group(proc)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()


async def run_worker(
    module: str,
    request: dict[str, Any],
    ctx: JobContext,
    *,
    what: str,
    timeout: float,
    path: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run `python -m module`, send it `request`, relay its events, return its result.

    `what` names the worker for people ("the TensorFlow converter"); a crash, a timeout or a
    garbled protocol becomes a TinymlError about `path`.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env=worker_env(),
        limit=16 * 1024 * 1024,
    )
    stderr_tail: deque[str] = deque(maxlen=20)
    result: dict[str, Any] | None = None
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
                result = event.get("value", {})
            elif kind == "error":
                error = event
            if on_event is not None:
                on_event(event)

    async def talk() -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(request).encode() + b"\n")
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
    return result


# --- the worker's side --------------------------------------------------------------------


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
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "to_json"):
        return value.to_json()
    return str(value)


def worker_main(handler: Callable[[dict[str, Any], WorkerChannel], dict[str, Any]]) -> int:
    """Entry point of a worker module: read the request, run `handler`, send the outcome.

    The worker then leaves with os._exit: its files are written and its answer sent, and
    TensorFlow's teardown at a normal exit costs the user most of a second for nothing.
    """
    channel = WorkerChannel()
    status = 1
    try:
        request = json.loads(sys.stdin.readline() or "{}")
        channel.send("result", value=handler(request, channel))
        status = 0
    except TinymlError as exc:
        channel.send("error", **exc.to_json())
    except Exception as exc:  # a bug: keep the traceback on stderr for the log
        import traceback

        traceback.print_exc()
        channel.send("error", message=f"internal error in worker: {type(exc).__name__}: {exc}")
    sys.stderr.flush()
    os._exit(status)
