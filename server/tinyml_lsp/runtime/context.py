"""The job context: how a task of the core reports progress and log lines.

A task is an async function taking a `JobContext`. Each face supplies its own (the LSP turns
progress into `$/progress`, the CLI into a bar on stderr); cancellation is asyncio's — the face
cancels the task, and whatever child processes it started are killed on the way out.
"""

from __future__ import annotations

from typing import Protocol


class JobContext(Protocol):
    def progress(self, fraction: float | None, message: str) -> None:
        """Report how far the task is (0..1, or None when unknown) and what it is doing."""

    def log(self, line: str) -> None:
        """One line for the user's log (LSP log message, CLI stderr)."""


class NullContext:
    """A context that drops everything: for a task's inner steps nobody watches."""

    def progress(self, fraction: float | None, message: str) -> None:
        pass

    def log(self, line: str) -> None:
        pass


class Stage:
    """A part of a task: maps the part's own 0..1 progress into [start, end] of the whole."""

    def __init__(self, ctx: JobContext, start: float, end: float) -> None:
        self.ctx, self.start, self.end = ctx, start, end

    def progress(self, fraction: float | None, message: str) -> None:
        scaled = None if fraction is None else self.start + (self.end - self.start) * fraction
        self.ctx.progress(scaled, message)

    def log(self, line: str) -> None:
        self.ctx.log(line)
