"""The jobs the server is running: one per `workspace/executeCommand` request being served.

A job is the asyncio task that serves its request. It can be cancelled three ways, all with the
same effect (the task is cancelled; `runtime.process` kills its child processes on the way
out): the user's cancel in the progress UI (`window/workDoneProgress/cancel`, by token),
the client's `$/cancelRequest` (by request id: Neovim's only way), and `shutdown` (all).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tinyml_lsp.runtime.process import kill_children


@dataclass
class Job:
    task: asyncio.Task[Any]
    request: int | str | None  # the JSON-RPC id of the request it serves
    token: str | None = None  # its work-done progress token, once it has one


class Jobs:
    def __init__(self) -> None:
        self._jobs: list[Job] = []
        # requests cancelled before their job began (the cancel can be read first)
        self._cancelled_early: deque[int | str] = deque(maxlen=64)

    @contextlib.contextmanager
    def track(self, request: int | str | None) -> Iterator[Job]:
        """Register the current task as the job serving `request`, for its duration."""
        task = asyncio.current_task()
        assert task is not None
        if request is not None and request in self._cancelled_early:
            raise asyncio.CancelledError
        job = Job(task, request)
        self._jobs.append(job)
        try:
            yield job
        finally:
            self._jobs.remove(job)

    def current(self) -> Job | None:
        task = asyncio.current_task()
        return next((j for j in self._jobs if j.task is task), None)

    def cancel(self, *, token: Any = None, request: int | str | None = None) -> bool:
        """Cancel the job with this progress token or serving this request; False if none."""
        found = [j for j in self._jobs if (token is not None and j.token == str(token))
                 or (request is not None and j.request == request)]
        for job in found:
            job.task.cancel()
        if not found and request is not None:
            self._cancelled_early.append(request)
        return bool(found)

    async def stop_all(self, timeout: float) -> None:
        """Cancel every job and wait for them to end (their child processes killed, their
        temporary files removed); past `timeout`, kill what children remain and go on."""
        tasks = [j.task for j in self._jobs if j.task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        kill_children()
