"""The check corpus: sketches written for the tests, each with the findings it must produce.

A case is a file under `corpus/` (or a folder: a PlatformIO project). Its first lines name the
model it runs and optionally the board:

    // model: hello_world_int8        (a model of ../shared/models; exported beside the case)
    // board: nano33ble

and each expected finding is marked on its line, at the end, as

    ... // <- tinyml/CODE "the exact text the finding's range covers"   [nofix] [SEVERITY]

(`; <- ...` in a platformio.ini). `nofix` says the finding has no quick fix; a severity, when
given, is checked too. A case with no
marker must come out clean: no finding at all, hints included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
_HEADER = re.compile(r"^\s*//\s*(?P<key>model|board):\s*(?P<value>\S+)")
_MARK = re.compile(r'(?://|;)\s*<-\s*(?P<code>tinyml/[a-z-]+)\s+"(?P<text>[^"]*)"'
                   r"(?P<nofix>\s+nofix)?(?:\s+(?P<severity>error|warning|information|hint))?")
FILE_SUFFIXES = (".ino", ".cpp", ".c", ".h", ".ini")


@dataclass(frozen=True)
class Expected:
    file: str  # relative to the case
    line: int  # 0-based
    code: str
    text: str
    fix: bool
    severity: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    path: Path  # the file or folder in the corpus
    model: str | None
    board: str | None
    expected: tuple[Expected, ...]

    @property
    def folder(self) -> bool:
        return self.path.is_dir()

    def files(self) -> list[Path]:
        if not self.folder:
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.suffix in FILE_SUFFIXES)


def _case(path: Path) -> Case:
    model = board = None
    expected = []
    root = path if path.is_dir() else path.parent
    files = sorted(p for p in path.rglob("*") if p.suffix in FILE_SUFFIXES) if path.is_dir() \
        else [path]
    for f in files:
        for n, line in enumerate(f.read_text().splitlines()):
            if (m := _HEADER.match(line)) and n < 5:
                if m["key"] == "model":
                    model = m["value"]
                else:
                    board = m["value"]
            if m := _MARK.search(line):
                expected.append(Expected(str(f.relative_to(root)), n, m["code"], m["text"],
                                         not m["nofix"], m["severity"]))
    return Case(path.name, path, model, board, tuple(expected))


def load_cases() -> list[Case]:
    return [_case(p) for p in sorted(CORPUS.iterdir())
            if p.is_dir() or p.suffix in FILE_SUFFIXES]
