"""Positions from tinyml's columns (characters) to the editor's units: UTF-16 code units by the
protocol's default, or the encoding the editor negotiated (Neovim: UTF-8). A line with "°C" or an
emoji before a finding must not shift its squiggle."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import from_fs_path

from tinyml_lsp.lsp.tinyml_server import TinymlServer


def file_lines(ls: TinymlServer, path: str) -> list[str]:
    """A file's lines as the editor has them (its open document, else the file on disk)."""
    doc = ls.workspace.text_documents.get(unquote(from_fs_path(path) or path))
    if doc is not None:
        return doc.lines
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines(True)
    except OSError:
        return []


def client_range(ls: TinymlServer, lines: list[str], line: int, col: int, end_line: int,
                 end_col: int) -> types.Range:
    """A range in characters of `lines`, in the editor's units."""
    return ls.workspace.position_codec.range_to_client_units(lines, types.Range(
        types.Position(line, col), types.Position(end_line, end_col)))
