"""The one exception family for everything a user can fix."""

from __future__ import annotations

from pathlib import Path


class TinymlError(Exception):
    """A problem the user can fix: a wrong file, bad data, a missing tool.

    The CLI prints it as one line (`error: PATH: message`) plus the hint; the LSP shows the
    same text. Anything that is not a TinymlError is a bug.
    """

    def __init__(self, message: str, path: str | Path | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_json(self) -> dict:
        return {"message": self.message, "path": self.path, "hint": self.hint}

    @classmethod
    def from_json(cls, data: dict) -> TinymlError:
        return cls(data.get("message", "unknown error"), data.get("path"), data.get("hint"))


def require_file(path: str | Path, what: str = "file") -> Path:
    """Return `path` as a Path if it is an existing regular file, else a clear error."""
    p = Path(path)
    if not p.exists():
        raise TinymlError(f"no such {what}", p)
    if p.is_dir():
        raise TinymlError(f"is a directory, expected a {what}", p)
    return p
