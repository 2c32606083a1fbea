"""A sketch's text and the positions in it: 0-based lines and columns (in characters), the unit
every finding, fix and editor range is given in."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Range:
    line: int
    col: int
    end_line: int
    end_col: int

    def contains(self, other: Range) -> bool:
        return (self.line, self.col) <= (other.line, other.col) and \
            (other.end_line, other.end_col) <= (self.end_line, self.end_col)

    def touches_line(self, line: int) -> bool:
        return self.line <= line <= self.end_line

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "col": self.col, "end_line": self.end_line,
                "end_col": self.end_col}


class Source:
    """The text of one file, as bytes (what the parser sees) and as lines (what people see)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", errors="surrogatepass")
        self._starts = [0] + [m.end() for m in re.finditer(b"\n", self.data)]

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, character column) of a byte offset."""
        offset = max(0, min(offset, len(self.data)))
        line = bisect.bisect_right(self._starts, offset) - 1
        col = len(self.data[self._starts[line]:offset].decode("utf-8", errors="replace"))
        return line, col

    def range(self, start: int, end: int) -> Range:
        return Range(*self.position(start), *self.position(end))

    def offset(self, line: int, col: int) -> int:
        """The byte offset of a (line, character column)."""
        if line >= len(self._starts):
            return len(self.data)
        start = self._starts[line]
        end = self._starts[line + 1] if line + 1 < len(self._starts) else len(self.data)
        text = self.data[start:end].decode("utf-8", errors="replace")
        return start + len(text[:col].encode("utf-8"))

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line] if 0 <= line < len(lines) else ""

    def indent_of(self, line: int) -> str:
        text = self.line_text(line)
        return text[:len(text) - len(text.lstrip())]
