"""The model card a hover shows: on a model header's `#include`, a `.tflite` path in a sketch,
or `custom_tinyml_model` in platformio.ini — ops, I/O with quantization, size, the measured
arena, and whether it fits the board of each environment of the project."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from tinyml_lsp.check.ini import INI_NAME, env_board, find_ini, parse_ini
from tinyml_lsp.check.model_source import arena_floor, c_arrays, facts_of_bytes, header_files
from tinyml_lsp.check.rules import recommended_arena
from tinyml_lsp.deploy.fit import fit_card, tflm_footprint
from tinyml_lsp.model.inspect import render_card
from tinyml_lsp.model.tflite_file import FILE_IDENTIFIER
from tinyml_lsp.runtime.context import NullContext

_INCLUDE = re.compile(r'^\s*#\s*include\s*"(?P<path>[^"]+)"')
_STRING = re.compile(r'"(?P<s>[^"\n]+\.tflite)"')
_OPTION = re.compile(r"^\s*custom_tinyml_model\s*=\s*(?P<value>[^;#\n]+?)\s*(?:[;#].*)?$")
MAX_MODEL_BYTES = 16 * 1024 * 1024
# The VS Code extension's command that opens the model report page (it trusts this one command
# link in hovers); other editors show the link's text.
REPORT_COMMAND = "tinyml.showModelReport"


def report_link(model: Path) -> str:
    """A Markdown command link that opens the report page of a .tflite file."""
    args = quote(json.dumps([model.resolve().as_uri()]))
    return f"[Open the model report](command:{REPORT_COMMAND}?{args})"


def model_at(path: Path, line_text: str, column: int) -> tuple[bytes, str] | None:
    """The model bytes a line refers to at `column`, and its name; None when it names none."""
    folder = path.parent
    if path.name == INI_NAME:
        m = _OPTION.match(line_text)
        if m and m.start("value") <= column <= m.end("value"):
            return _file(folder / m["value"])
        return None
    if (m := _INCLUDE.match(line_text)) and column <= m.end("path") + 1:
        for header in header_files(folder, m["path"]):
            for f in [header, *(header.with_suffix(s) for s in (".cc", ".cpp", ".c"))]:
                if not f.is_file() or f.stat().st_size > MAX_MODEL_BYTES * 6:
                    continue
                models = [b for b in c_arrays(f.read_bytes()).values()
                          if b[4:8] == FILE_IDENTIFIER]
                if models:
                    return models[0], m["path"]
        return None
    for s in _STRING.finditer(line_text):
        if s.start() <= column <= s.end():
            return _file(folder / s["s"])
    return None


def _named_file(path: Path, line_text: str, column: int) -> Path | None:
    """The .tflite file the position names (a path or custom_tinyml_model), if it is one."""
    m = _OPTION.match(line_text) if path.name == INI_NAME else next(
        (s for s in _STRING.finditer(line_text) if s.start() <= column <= s.end()), None)
    return path.parent / (m["value"] if path.name == INI_NAME else m["s"]) if m else None


def _file(path: Path) -> tuple[bytes, str] | None:
    try:
        if path.is_file() and path.stat().st_size <= MAX_MODEL_BYTES:
            data = path.read_bytes()
            return (data, path.name) if data[4:8] == FILE_IDENTIFIER else None
    except OSError:
        return None
    return None


async def hover_markdown(path: Path, line_text: str, column: int,
                         ini_text: str | None = None) -> str | None:
    """The Markdown model card for what the position names, or None."""
    found = await asyncio.to_thread(model_at, path, line_text, column)
    if found is None:
        return None
    data, name = found
    card, arena = await facts_of_bytes(data, NullContext())
    lines = [f"**model** `{name}`", "```text", render_card(replace(card, path=name)), "```"]
    if name.endswith(".tflite") and (model := _named_file(path, line_text, column)):
        lines.append(report_link(model))
    if arena is not None and arena.arena_bytes:
        lines.append(f"**arena** {arena.arena_bytes:,} bytes measured with TFLite Micro on a "
                     f"64-bit host (at least {arena_floor(arena) or 0:,} on 32 bits); a sketch "
                     f"should reserve {recommended_arena(arena) or 0:,}")
    ini = parse_ini(path, ini_text) if ini_text is not None else await asyncio.to_thread(
        find_ini, path)
    if ini is not None:
        rows = []
        for env in ini.envs():
            board, value = env_board(ini, env)
            if board is None:
                if value is not None:
                    rows.append(f"| {env.name[4:]} | {value.text} | unknown board | |")
                continue
            r = fit_card(card, tflm_footprint(card, arena), board)
            rows.append(f"| {env.name[4:]} | {board.name} | {r.flash_needed:,} / "
                        f"{board.flash_bytes:,} flash, {r.ram_needed:,} / {board.ram_bytes:,} "
                        f"RAM | {'fits' if r.fits else 'DOES NOT FIT'} |")
        if rows:
            lines += ["", "| env | board | needs / has | |", "|---|---|---|---|", *rows]
    return "\n".join(lines)

