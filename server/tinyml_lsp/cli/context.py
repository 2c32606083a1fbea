"""The CLI's job context: progress and log lines on stderr, and how results are printed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


class CliContext:
    """A progress bar on stderr when it is a terminal (and not --quiet); the task's log lines
    with --verbose. A script reading stderr sees nothing but the error line, if any."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False,
                 verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.bar = self.stream.isatty() and not quiet
        self.verbose = verbose
        self._bar_shown = False

    def progress(self, fraction: float | None, message: str) -> None:
        if self.bar:
            filled = int(30 * (fraction or 0))
            pct = f"{100 * fraction:3.0f}%" if fraction is not None else "  …"
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {pct} {message[:60]:<60}")
            self.stream.flush()
            self._bar_shown = True

    def log(self, line: str) -> None:
        if self.verbose:
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
    ctx = CliContext(quiet=args.quiet, verbose=args.verbose)
    try:
        value = asyncio.run(make(ctx))
    finally:
        ctx.clear()
    emit(args, value, render)
    return value
