"""The CLI's job context: progress and log lines on stderr, and how results are printed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


class CliContext:
    """Progress bar and log lines on stderr (a bar on a terminal, plain lines otherwise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_message = ""
        self._last_line_at = 0.0
        self._bar_shown = False

    def progress(self, fraction: float | None, message: str) -> None:
        if self.tty:
            filled = int(30 * (fraction or 0))
            pct = f"{100 * fraction:3.0f}%" if fraction is not None else "  …"
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {pct} {message[:60]:<60}")
            self.stream.flush()
            self._bar_shown = True
        elif message != self._last_message and time.monotonic() - self._last_line_at > 0.5:
            # a log file gets a line at most twice a second, not every step of a bisection
            pct = f"{100 * fraction:3.0f}% " if fraction is not None else ""
            self.stream.write(f"{pct}{message}\n")
            self._last_line_at = time.monotonic()
        self._last_message = message

    def log(self, line: str) -> None:
        self.clear()
        self.stream.write(line + "\n")

    def clear(self) -> None:
        if self._bar_shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self._bar_shown = False


def jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value.to_json() if hasattr(value, "to_json") else value


def emit(args: argparse.Namespace, value: Any, render: Callable[[Any], str]) -> None:
    """Print a result: rendered for people, or as JSON with --json."""
    if args.json:
        print(json.dumps(jsonable(value), indent=2, default=str))
    else:
        print(render(value))


def run(args: argparse.Namespace, make: Callable[[CliContext], Coroutine[Any, Any, T]],
        render: Callable[[T], str]) -> T:
    """Run a task with a CLI context, print its result, and return it."""
    ctx = CliContext()
    try:
        value = asyncio.run(make(ctx))
    finally:
        ctx.clear()
    emit(args, value, render)
    return value
