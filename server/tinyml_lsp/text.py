"""Text from outside (file names, model and tensor names) made safe for the files we
generate: C comments and string literals, and platformio.ini values."""

from __future__ import annotations

from pathlib import Path

from tinyml_lsp.errors import TinymlError, one_line


def c_comment(text: str) -> str:
    """`text` for the inside of a C comment (/* ... */ or // ...)."""
    return one_line(text).replace("*/", "*\\/")


def ini_value(text: str, path: str | Path) -> str:
    """`text` as a value of platformio.ini, which PlatformIO reads with `%` interpolation;
    a line break cannot be written at all."""
    if one_line(text) != text:
        raise TinymlError(f"the name {one_line(text)} has a line break or control character, "
                          "which platformio.ini cannot hold", path, hint="rename the file")
    return text.replace("%", "%%")


def from_ini(value: str) -> str:
    """A platformio.ini value as the file name it stands for."""
    return value.replace("%%", "%")


def is_number(text: str) -> bool:
    """Whether a CSV cell reads as a number (a header cell does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
