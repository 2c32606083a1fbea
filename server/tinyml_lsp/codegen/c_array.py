"""Export a .tflite model as C source: `model_data.h` / `model_data.cc` for TFLite Micro."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from string import Template
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import HYBRID_REFUSAL, ModelCard, inspect_model, render_card
from tinyml_lsp.model.micro import ArenaReport, measure_arena
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext
from tinyml_lsp.runtime.worker import WorkerCrashed
from tinyml_lsp.text import c_comment

BYTES_PER_LINE = 12
DEFAULT_NAME = "g_model"  # the C array's name, as in TFLite Micro's examples


@dataclass(frozen=True)
class ExportResult:
    header: str
    source: str
    model_bytes: int
    arena_bytes: int | None
    name: str
    arena_message: str = ""  # why there is no arena (TFLite Micro cannot run the model)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def c_identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit():
        ident = "g_" + ident
    return ident


def render_c_array(card: ModelCard, data: bytes, arena: ArenaReport, name: str,
                   header_name: str) -> tuple[str, str]:
    """The header and source text; a pure function of its inputs (same input, same bytes)."""
    model_file = c_comment(Path(card.path).name)
    card_text = render_card(replace(card, path=model_file))
    if arena.arena_bytes:
        arena_comment = (f"{arena.arena_bytes:,} bytes, measured with TFLite Micro's interpreter "
                         "on a 64-bit host\n// (a 32-bit MCU needs at most this much).")
    else:
        arena_comment = c_comment(
            f"unknown — {arena.message or 'TFLite Micro cannot run this model'}.")
    rows = (", ".join(f"0x{b:02x}" for b in data[i:i + BYTES_PER_LINE])
            for i in range(0, len(data), BYTES_PER_LINE))
    fields = {
        "model_file": model_file,
        "card": "\n".join(f"// {c_comment(line)}".rstrip() for line in card_text.splitlines()),
        "arena_comment": arena_comment,
        "arena_bytes": arena.arena_bytes or 0,
        "guard": c_identifier(header_name).upper() + "_",
        "name": name,
        "header": header_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": ",\n".join(f"    {row}" for row in rows),
        "length": len(data),
    }
    return (Template(snippet("model_data.h.tmpl")).substitute(fields),
            Template(snippet("model_data.cc.tmpl")).substitute(fields))


def _write(card: ModelCard, arena: ArenaReport, out: Path, name: str,
           basename: str) -> tuple[Path, Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TinymlError(f"cannot create the output folder: {exc.strerror}", out) from exc
    header_name = f"{basename}.h"
    h_text, cc_text = render_c_array(card, Path(card.path).read_bytes(), arena, name,
                                     header_name)
    header, source = out / header_name, out / f"{basename}.cc"
    header.write_text(h_text)
    source.write_text(cc_text)
    return header, source


async def export_model(model: str | Path, out_dir: str | Path, ctx: JobContext, *,
                       name: str = DEFAULT_NAME, basename: str = "model_data") -> ExportResult:
    card = await asyncio.to_thread(inspect_model, model)
    if c_identifier(name) != name:
        raise TinymlError(f"{name!r} is not a C identifier", hint=f"try {c_identifier(name)!r}")
    if card.quantization == "hybrid":  # the bytes export fine; TFLite Micro cannot run them
        arena = ArenaReport(None, message=HYBRID_REFUSAL)
    else:
        ctx.progress(0.2, "measuring the tensor arena with TFLite Micro")
        try:
            arena = await measure_arena(model, ctx)
        except WorkerCrashed:
            raise
        except TinymlError as exc:  # any valid model exports; the header says why no arena
            arena = ArenaReport(None, message=exc.message)
    if arena.message:
        ctx.log(f"warning: {arena.message}")
    header, source = await asyncio.to_thread(_write, card, arena, Path(out_dir), name, basename)
    ctx.log(f"wrote {header} and {source}")
    return ExportResult(str(header), str(source), card.size_bytes, arena.arena_bytes, name,
                        arena.message)


def render_export(r: ExportResult) -> str:
    arena = f"{r.arena_bytes:,} bytes" if r.arena_bytes else f"unknown: {r.arena_message}"
    return (f"wrote {r.header}\nwrote {r.source}\n{r.model_bytes:,} bytes of model as "
            f"{r.name}[]; TFLite Micro arena {arena}")
