"""Hover on a dataset path in a script: the dataset's summary (`tinyml data summary`), read
in a thread and kept per file version, so the editor never waits twice for the same file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from lsprotocol import types

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp import check_features
from tinyml_lsp.lsp.code_actions import opened_file
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.model.formats import ARRAY_SUFFIXES, TABLE_SUFFIXES

_STRING = re.compile(r"""(?P<q>['"])(?P<s>[^'"\n]+)(?P=q)""")
_cache: dict[tuple[str, int, int], str] = {}  # (path, mtime, size) → markdown
CACHED = 32  # summaries kept


def _dataset(script: Path, literal: str) -> Path | None:
    """The dataset a string literal names, relative to the script: a table, an array file, or
    a folder of class subfolders."""
    path = Path(literal) if Path(literal).is_absolute() else script.parent / literal
    if path.suffix.lower() in (*TABLE_SUFFIXES, *ARRAY_SUFFIXES) and path.is_file():
        return path
    if path.is_dir() and any(c.is_dir() for c in path.iterdir()):
        return path
    return None


def dataset_on_line(script: Path, line: str, column: int | None = None) -> Path | None:
    """The first dataset named on `line` (or the one under `column`)."""
    for m in _STRING.finditer(line):
        if column is not None and not m.start() <= column <= m.end():
            continue
        if (found := _dataset(script, m["s"])) is not None:
            return found
    return None


def _markdown(path: Path) -> str:
    from tinyml_lsp.model.data_summary import render_summary, summarize

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        try:
            text = render_summary(summarize(path))
        except TinymlError as exc:
            text = f"{path.name}: {exc.message}"
        if len(_cache) >= CACHED:
            _cache.pop(next(iter(_cache)))  # the oldest
        _cache[key] = f"**dataset** `{path.name}`\n```text\n{text}\n```"
    return _cache[key]


async def hover(ls: TinymlServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    if check_features.checked(uri):  # a sketch or platformio.ini: the model card
        return await check_features.hover(ls, params)
    opened = opened_file(ls, uri) if uri.endswith(".py") else None
    if opened is None:
        return None
    doc, script = opened
    lines = doc.source.splitlines()
    line = params.position.line
    if line >= len(lines):
        return None
    path = dataset_on_line(script, lines[line], params.position.character)
    if path is None:
        return None
    text = await asyncio.to_thread(_markdown, path)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def register(server: TinymlServer) -> None:
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
