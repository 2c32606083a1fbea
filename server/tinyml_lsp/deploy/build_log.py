"""Any build's output read back onto the workspace: compiler and linker messages from the
emulated board's build, a host build, or a real board's PlatformIO / Arduino output pasted from
another machine (its paths foreign, Windows ones included, its lines coloured) — each placed on
the workspace file it names, over the token at its column — and the RAM/flash summary.

`platformio.parse_diagnostics` reads the messages; this module finds their files and ranges.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tinyml_lsp.deploy.platformio import Diagnostic, parse_diagnostics

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SIZE = re.compile(r"^(?P<what>RAM|Flash):\s+\[.*\]\s+[\d.]+%\s+\(used (?P<used>\d+) bytes "
                   r"from (?P<total>\d+) bytes\)")
_ARDUINO_FLASH = re.compile(r"Sketch uses (?P<used>\d+) bytes .*Maximum is (?P<total>\d+) bytes")
_ARDUINO_RAM = re.compile(r"Global variables use (?P<used>\d+) bytes .*Maximum is "
                          r"(?P<total>\d+) bytes")
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|->|::|\S")
# GCC 11 and later count a message's column on screen (-fdiagnostics-column-unit=display): a
# tab moves to the next multiple of -ftabstop (8), a wide character takes two. Older GCCs and
# Clang count bytes. PlatformIO's package list names the toolchain's GCC version.
TABSTOP = 8
_TOOLCHAIN_GCC = re.compile(r"toolchain-\S+ @ \S+ \((?P<major>\d+)\.\d+")
SOURCE_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".ino", ".S", ".s"}
_SKIPPED = {".git", ".pio", ".venv", "node_modules", "__pycache__", ".state"}
MAX_INDEXED = 20_000  # workspace files looked at when mapping foreign paths


@dataclass(frozen=True)
class Placed:
    """A diagnostic on a workspace file: 0-based line, columns of the token it points at."""

    file: str | None  # None: the message names no file of the workspace (a linker error)
    line: int
    col: int
    end_col: int
    severity: str
    message: str
    foreign: str | None = None  # the path as the log wrote it, when it was mapped

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BuildLog:
    diagnostics: tuple[Placed, ...]
    flash_used: int | None = None
    flash_total: int | None = None
    ram_used: int | None = None
    ram_total: int | None = None

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def summary(self) -> str:
        parts = []
        if self.flash_used is not None:
            parts.append(f"flash {self.flash_used:,}" + (f" of {self.flash_total:,}"
                                                         if self.flash_total else "") + " bytes")
        if self.ram_used is not None:
            parts.append(f"RAM {self.ram_used:,}" + (f" of {self.ram_total:,}"
                                                     if self.ram_total else "") + " bytes")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"diagnostics": [d.to_json() for d in self.diagnostics], "errors": self.errors,
                "flash_used": self.flash_used, "flash_total": self.flash_total,
                "ram_used": self.ram_used, "ram_total": self.ram_total,
                "summary": self.summary}


def _index(root: Path) -> list[PurePosixPath]:
    found: list[PurePosixPath] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED]
        for name in files:
            if Path(name).suffix in SOURCE_SUFFIXES:
                found.append(PurePosixPath(Path(folder, name).relative_to(root).as_posix()))
                if len(found) >= MAX_INDEXED:
                    return found
    return found


def map_path(written: str, root: Path, index: list[PurePosixPath] | None = None) -> Path | None:
    """The workspace file a build log's path stands for: itself when it exists here, else the
    file sharing the longest tail of folders with it (`C:\\Users\\me\\proj\\src\\main.cpp` →
    `src/main.cpp`); None when no file has its name or the best tail is shared by two."""
    direct = Path(written)
    if not direct.is_absolute():
        direct = root / direct
    if direct.is_file():
        return direct
    parts = [p for p in re.split(r"[\\/]+", written) if p and not re.fullmatch(r"[A-Za-z]:", p)]
    if not parts:
        return None
    best: list[PurePosixPath] = []
    best_len = 0
    for candidate in index if index is not None else _index(root):
        n = 0
        while n < min(len(parts), len(candidate.parts)) and \
                candidate.parts[-1 - n] == parts[-1 - n]:
            n += 1
        if n > best_len:
            best, best_len = [candidate], n
        elif n == best_len and n:
            best.append(candidate)
    return root / best[0] if best_len and len(best) == 1 else None


def column_index(line_text: str, column: int, unit: str = "display") -> int:
    """The character index of a compiler's 1-based column in a line: counted on screen
    ("display") or in UTF-8 bytes ("byte")."""
    width = 0
    for i, ch in enumerate(line_text):
        if width >= column - 1:
            return i
        if unit == "byte":
            width += len(ch.encode("utf-8", errors="replace"))
        elif ch == "\t":
            width = (width // TABSTOP + 1) * TABSTOP
        else:
            width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return len(line_text) + max(column - 1 - width, 0)


def column_unit(log_lines: list[str]) -> str:
    """How the log's compiler counts columns: "byte" when PlatformIO names a GCC older than
    11, else "display" (the GCC of every current toolchain, the emulated board's included)."""
    for line in log_lines:
        if (m := _TOOLCHAIN_GCC.search(line)) and int(m["major"]) < 11:
            return "byte"
    return "display"


def token_end(line_text: str, col: int) -> int:
    """The end column of the token starting at (or containing) `col` of a line."""
    for m in _TOKEN.finditer(line_text):
        if m.start() <= col < m.end():
            return m.end()
        if m.start() > col:
            break
    return col + 1


def _place(d: Diagnostic, root: Path, index: list[PurePosixPath],
           texts: dict[Path, list[str]], unit: str) -> Placed:
    if not d.file or d.line is None:
        return Placed(None, 0, 0, 0, d.severity, d.message)
    path = map_path(d.file, root, index)
    if path is None:
        return Placed(None, 0, 0, 0, d.severity, f"{d.file}:{d.line}: {d.message}")
    if path not in texts:
        try:
            texts[path] = path.read_text(errors="replace").splitlines()
        except OSError:
            texts[path] = []
    lines = texts[path]
    line = max(d.line - 1, 0)
    text = lines[line] if line < len(lines) else ""
    if d.column is None:  # the whole line, without its indentation
        col, end = len(text) - len(text.lstrip()), len(text.rstrip()) or 1
    else:
        col = column_index(text, d.column, unit)
        end = token_end(text, col)
    foreign = None if Path(d.file) == path or (root / d.file) == path else d.file
    return Placed(str(path), line, col, max(end, col + 1), d.severity, d.message, foreign)


def place(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
          root: str | Path, unit: str = "display") -> tuple[Placed, ...]:
    """Parsed compiler messages on `root`'s files (notes left out: they follow their error);
    `unit`: how the compiler counts columns (column_unit)."""
    workspace = Path(root)
    needs_index = any(d.file and not (Path(d.file).is_file() or (workspace / d.file).is_file())
                      for d in diagnostics)
    index = _index(workspace) if needs_index else []
    texts: dict[Path, list[str]] = {}
    return tuple(_place(d, workspace, index, texts, unit)
                 for d in diagnostics if d.severity != "note")


def read_build_log(text: str, root: str | Path) -> BuildLog:
    """A build's output (any compiler, any machine) as diagnostics on `root`'s files."""
    lines = [_ANSI.sub("", line).rstrip("\r") for line in text.splitlines()]
    placed = place(parse_diagnostics(lines, root), root, column_unit(lines))
    sizes: dict[str, tuple[int, int]] = {}
    for line in lines:
        if m := _SIZE.match(line.strip()):
            sizes[m["what"]] = (int(m["used"]), int(m["total"]))
        elif m := _ARDUINO_FLASH.search(line):
            sizes["Flash"] = (int(m["used"]), int(m["total"]))
        elif m := _ARDUINO_RAM.search(line):
            sizes["RAM"] = (int(m["used"]), int(m["total"]))
    flash, ram = sizes.get("Flash"), sizes.get("RAM")
    return BuildLog(placed, flash[0] if flash else None, flash[1] if flash else None,
                    ram[0] if ram else None, ram[1] if ram else None)
