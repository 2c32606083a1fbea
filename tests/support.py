"""Helpers the tests share."""

from __future__ import annotations

from typing import Any


class SilentContext:
    """A job context that keeps what it is told, for tests to look at."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def progress(self, fraction: float | None, message: str) -> None:
        self.events.append(("progress", (fraction, message)))

    def log(self, line: str) -> None:
        self.events.append(("log", line))
