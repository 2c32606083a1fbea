"""A finding of `tinyml check`: where, what (a code and a message carrying the measured fact),
how bad, and the quick fix when there is one — as text edits, which the CLI applies and the
editor shows as a WorkspaceEdit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinyml_lsp.check.source import Range

SEVERITIES = ("error", "warning", "information", "hint")


@dataclass(frozen=True)
class Edit:
    range: Range
    new_text: str
    file: str | None = None  # None: the finding's file

    def to_json(self) -> dict[str, Any]:
        return {"range": self.range.to_json(), "new_text": self.new_text, "file": self.file}


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "edits": [e.to_json() for e in self.edits]}


@dataclass(frozen=True)
class Finding:
    file: str
    range: Range
    code: str  # "tinyml/<name>"
    severity: str  # one of SEVERITIES
    message: str
    fix: Fix | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "range": self.range.to_json(), "code": self.code,
                "severity": self.severity, "message": self.message,
                "fix": self.fix.to_json() if self.fix else None}

    def render(self) -> str:
        text = (f"{self.file}:{self.range.line + 1}:{self.range.col + 1}: {self.severity}: "
                f"{self.message} [{self.code}]")
        return text + (f"\n    fix: {self.fix.title}" if self.fix else "")


def apply_edits(text: str, edits: list[Edit]) -> str:
    """The text with the edits applied (from the last to the first; overlapping ones after
    the first are dropped)."""
    from tinyml_lsp.check.source import Source

    source = Source(text)
    data = source.data
    spans = sorted(((source.offset(e.range.line, e.range.col),
                     source.offset(e.range.end_line, e.range.end_col), e.new_text)
                    for e in edits), key=lambda s: (s[0], s[1]))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    for start, end, new in reversed(kept):
        data = data[:start] + new.encode() + data[end:]
    return data.decode("utf-8", errors="surrogatepass")
