"""The one exception family for everything a user can fix."""

from __future__ import annotations

import re
import stat
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """`text` on one line: control characters shown as escapes (a newline as \\n)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class TinymlError(Exception):
    """A problem the user can fix: a wrong file, bad data, a missing tool.

    The CLI prints it as one line (`error: PATH: message`) plus the hint; the LSP shows the
    same text. Anything that is not a TinymlError is a bug.
    """

    def __init__(self, message: str, path: str | Path | None = None, hint: str | None = None,
                 details: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.hint = hint
        self.details = details  # lines a terminal shows above the error (e.g. compiler errors)

    def __str__(self) -> str:
        return f"{one_line(self.path)}: {self.message}" if self.path else self.message

    def to_json(self) -> dict:
        return {"message": self.message, "path": self.path, "hint": self.hint}

    @classmethod
    def from_json(cls, data: dict) -> TinymlError:
        return cls(data.get("message", "unknown error"), data.get("path"), data.get("hint"))


def require_file(path: str | Path, what: str = "file", *, limit: int | None = None) -> Path:
    """`path` as a Path if it is a regular file (of at most `limit` bytes), else a clear error.

    FIFOs, devices and sockets are refused: reading them blocks or never ends.
    """
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise TinymlError(f"no such {what}" + (" (a broken symbolic link)" if p.is_symlink()
                                               else ""), p) from None
    except RuntimeError:  # pathlib's "Symlink loop"
        raise TinymlError(f"the {what} is a loop of symbolic links", p) from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise TinymlError(f"the {what} is a loop of symbolic links", p) from None
        raise TinymlError(f"cannot read the {what}: {exc.strerror}", p) from None
    if stat.S_ISDIR(info.st_mode):
        raise TinymlError(f"is a directory, expected a {what}", p)
    if not stat.S_ISREG(info.st_mode):
        raise TinymlError(f"is not a regular file (a device, pipe or socket), expected a {what}",
                          p)
    if limit is not None and info.st_size > limit:
        raise TinymlError(f"the {what} is {info.st_size:,} bytes, more than the "
                          f"{limit:,} bytes this tool reads", p)
    return p
