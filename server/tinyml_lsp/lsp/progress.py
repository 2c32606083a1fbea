"""Background jobs for the LSP face: work-done progress, log messages, cancellation, errors.

Each command is registered with `register_command`: its typed arguments are parsed (a -32602
error saying what is wrong), and the task serving the request is a job (`jobs`) for as long as
it runs. The handler awaits `run_job`; the event loop stays free because the task's heavy parts
run in child processes (and what they import is imported in a thread: `warm`). Progress begins
and always ends (in `finally`); a cancel (from the progress UI, `$/cancelRequest` or
`shutdown`) cancels the job's asyncio task, and `runtime.process` kills the child processes on
the way out.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from lsprotocol import types

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp.arguments import parse_arguments
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext

T = TypeVar("T")
A = TypeVar("A")
log = logging.getLogger(__name__)


def register_command(server: TinymlServer, name: str, kind: type[A],
                     handler: Callable[[TinymlServer, A], Awaitable[Any]]) -> None:
    """`name` runs `handler` with its arguments typed as `kind`, as a cancellable job."""
    async def command(ls: TinymlServer, *raw: Any) -> Any:
        arguments = parse_arguments(name, kind, raw)
        with ls.jobs.track(ls.protocol.msg_id):
            try:
                return await handler(ls, arguments)
            except asyncio.CancelledError:  # outside run_job: the request still gets an answer
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                return None

    server.command(name)(command)


async def warm(*modules: str) -> None:
    """Import `modules` in a thread: numpy and what stands on it cost the event loop a few
    hundred milliseconds when imported on it. The caller then imports them for free."""
    await asyncio.to_thread(lambda: [importlib.import_module(m) for m in modules])


class LspJobContext:
    def __init__(self, ls: TinymlServer, token: str | None, title: str) -> None:
        self.ls, self.token, self.title = ls, token, title
        self._last: tuple[int | None, str] = (-1, "")

    def progress(self, fraction: float | None, message: str) -> None:
        if self.token is None:
            return
        pct = None if fraction is None else max(0, min(100, round(100 * fraction)))
        if (pct, message) == self._last:
            return
        self._last = (pct, message)
        self.ls.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=pct,
                                                     cancellable=True))

    def log(self, line: str) -> None:
        self.ls.window_log_message(types.LogMessageParams(types.MessageType.Log, line))


def _supports_progress(ls: TinymlServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


def show(ls: TinymlServer, kind: types.MessageType, text: str) -> None:
    ls.window_show_message(types.ShowMessageParams(kind, text))


async def run_job(ls: TinymlServer, title: str,
                  task: Callable[[JobContext], Awaitable[T]]) -> T | None:
    """Run `task` as a cancellable background job; None if it failed or was cancelled.

    Errors the user can fix are shown as they are; anything else is logged with its traceback
    and shown as a short message. The server keeps serving either way.
    """
    token: str | None = None
    ctx = LspJobContext(ls, None, title)
    job = ls.jobs.current()
    end_message = "failed"
    try:
        if _supports_progress(ls):
            created = f"tinyml-{uuid.uuid4()}"
            try:
                await ls.work_done_progress.create_async(created)
            except Exception:  # a client that refuses the token still gets log messages
                pass
            else:
                ls.work_done_progress.begin(created, types.WorkDoneProgressBegin(
                    title=title, cancellable=True, percentage=0))
                token = ctx.token = created
                if job is not None:
                    job.token = token
        result = await task(ctx)
        end_message = "done"
        return result
    except asyncio.CancelledError:
        end_message = "cancelled"
        ctx.log(f"{title}: cancelled")
        current_task = asyncio.current_task()
        if current_task is not None:
            current_task.uncancel()  # the job is over; the request itself still answers
        return None
    except TinymlError as exc:
        text = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        ctx.log(f"{title}: error: {text}")
        show(ls, types.MessageType.Error, text)
        return None
    except Exception as exc:
        ctx.log(f"{title}: internal error\n{traceback.format_exc()}")
        log.exception("job %s failed", title)
        show(ls, types.MessageType.Error,
             f"{title} failed with an internal error ({type(exc).__name__}); see the log")
        return None
    finally:
        if token is not None:
            if job is not None:
                job.token = None
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=end_message))
