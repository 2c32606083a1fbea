"""A monitoring session, as both faces run it: the board's events to a callback, one stop rule,
and at the end of each run the on-board verdict (`verdict`) when the project says what the host
expects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.monitor import (
    BAUDRATE,
    Disconnected,
    Done,
    Exited,
    Inference,
    LineEvent,
    Monitor,
    MonitorEvent,
    Ready,
    ends_run,
    is_failure,
)
from tinyml_lsp.deploy.verdict import Expected, Verdict, judge, read_expected, render_verdict
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext


@dataclass(frozen=True)
class MonitorSummary:
    lines: int  # lines the board printed
    inferences: int
    end: str | None  # the line or the reason that ended the session (None: stopped by the user)
    failed: bool  # an error line from the board, or the board went away
    verdict: Verdict | None  # of the last complete run, when the project has expectations

    @property
    def ok(self) -> bool:
        return not self.failed and (self.verdict is None or self.verdict.ok)

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "inferences": self.inferences, "end": self.end,
                "ok": self.ok, "verdict": self.verdict.to_json() if self.verdict else None}


def render_summary(s: MonitorSummary) -> str:
    text = f"{s.inferences} inferences; {s.end or 'stopped'}"
    return text + ("\n" + render_verdict(s.verdict) if s.verdict else "")


DEFAULT_RUN_SECONDS = 300.0  # a run's bound when the project does not say what it runs


async def watch(project_dir: str | Path | None, ctx: JobContext, *, port: str | None = None,
                baudrate: int = BAUDRATE, until_done: bool = True,
                timeout: float | None = None,
                on_event: Callable[[MonitorEvent], None] | None = None) -> MonitorSummary:
    """Read the board, handing every event to `on_event`, until the run ends (`until_done`)
    or, following a board that runs on, until the port goes or the caller cancels.

    Waiting for the end of a run is bounded: by `timeout`, else by what the project's test
    vectors should take (`Expected.run_seconds`); a board that loops or hangs before its end
    line is a TinymlError, not a wait forever.
    """
    expected = read_expected(project_dir) if project_dir is not None else None
    if timeout is None and until_done:
        timeout = expected.run_seconds() if expected is not None else DEFAULT_RUN_SECONDS
    where = project_dir if project_dir is not None else port
    try:
        async with asyncio.timeout(timeout):
            return await _read(project_dir, ctx, port, baudrate, until_done, on_event, expected)
    except TimeoutError:
        raise TinymlError(f"the board did not end its run within {timeout:.0f} s", where,
                          hint="a firmware that loops or hangs before its TINYML DONE line; "
                          "--timeout sets a longer wait") from None


async def _read(project_dir: str | Path | None, ctx: JobContext, port: str | None,
                baudrate: int, until_done: bool,
                on_event: Callable[[MonitorEvent], None] | None,
                expected: Expected | None) -> MonitorSummary:
    lines = inferences = 0
    end: str | None = None
    failed = done = False
    verdict: Verdict | None = None
    run: list[Inference] = []
    async with Monitor(project_dir, port=port, baudrate=baudrate) as monitor:
        async for event in monitor:
            if on_event is not None:
                on_event(event)
            if isinstance(event, LineEvent):
                lines += 1
            if isinstance(event, Ready):
                run, done = [], False
            if isinstance(event, Inference):
                inferences += 1
                run.append(event)
                ctx.progress(None, f"{inferences} inferences; last: {event.summary()}")
            failed = failed or is_failure(event)
            if isinstance(event, Disconnected):
                end = event.reason
                break
            if isinstance(event, Exited) and (event.status != 0 or not done):
                failed = True  # the program ended before its run did
                end = f"the firmware stopped (exit status {event.status}) before TINYML DONE"
            elif ends_run(event):
                end = event.line  # type: ignore[union-attr]
            done = done or isinstance(event, Done)
            if ends_run(event):
                if expected is not None:
                    verdict = judge(expected, run)
                if until_done:
                    break
    return MonitorSummary(lines, inferences, end, failed, verdict)
