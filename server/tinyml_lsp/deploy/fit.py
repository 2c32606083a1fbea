"""Does a model fit a board? Flash and RAM needed for TFLite Micro, against the board table.

Measured: the model's bytes (the flatbuffer goes to flash as is) and the tensor arena
(TFLite Micro's interpreter). Estimated, and labelled so: the TFLite Micro runtime's own code,
from a linear fit to builds for the Cortex-M4 with gcc -Os (20 KB for one kernel, 33 KB for
four, 37 KB for five), and a few KB of RAM for the interpreter objects and the stack.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.boards import KB, Board
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import ModelCard, inspect_model
from tinyml_lsp.model.micro import ArenaReport, measure_arena
from tinyml_lsp.runtime.context import JobContext

RUNTIME_CODE_BASE = 16 * KB  # interpreter, allocator, flatbuffer reader
RUNTIME_CODE_PER_KERNEL = 4400  # average per distinct op kernel
RUNTIME_RAM = 2 * KB  # interpreter and op resolver objects, call stack of Invoke()


@dataclass(frozen=True)
class FitReport:
    model: str
    board: Board
    model_bytes: int
    runtime_code_bytes: int  # estimate
    arena_bytes: int  # measured
    runtime_ram_bytes: int  # estimate
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def flash_needed(self) -> int:
        return self.model_bytes + self.runtime_code_bytes

    @property
    def ram_needed(self) -> int:
        return self.arena_bytes + self.runtime_ram_bytes

    @property
    def flash_margin(self) -> int:
        return self.board.flash_bytes - self.flash_needed

    @property
    def ram_margin(self) -> int:
        return self.board.ram_bytes - self.ram_needed

    @property
    def fits(self) -> bool:
        return self.flash_margin >= 0 and self.ram_margin >= 0 and not self.problems

    @property
    def problem(self) -> str | None:
        """Why the model does not fit the board, or None when it fits."""
        if self.fits:
            return None
        return "; ".join(self.problems) or (
            f"needs {self.flash_needed:,} bytes of flash ({self.board.flash_bytes:,} available) "
            f"and {self.ram_needed:,} bytes of RAM ({self.board.ram_bytes:,} available)")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"flash_needed": self.flash_needed, "ram_needed": self.ram_needed,
                 "flash_margin": self.flash_margin, "ram_margin": self.ram_margin,
                 "fits": self.fits}
        return data


def fit_card(card: ModelCard, arena: ArenaReport, board: Board) -> FitReport:
    problems: list[str] = []
    notes: list[str] = []
    if board.bits < 32:
        problems.append(f"TFLite Micro needs a 32-bit core; the {board.mcu} is {board.bits}-bit")
    if card.quantization == "hybrid":
        problems.append("hybrid (dynamic-range) models do not run on TFLite Micro: quantize to "
                        "full-integer int8")
    if arena.missing_ops:
        problems.append(arena.message)
    if card.quantization in ("float", "float16") and board.fpu == "none":
        notes.append(f"a float model on the {board.core} (no FPU) runs in software floating "
                     "point, typically 10× slower: quantize to int8")
    elif card.quantization in ("float", "float16"):
        notes.append("a float model is about 4× the size of its int8 version")
    arena_bytes = arena.arena_bytes or 0
    if board.psram_bytes and arena_bytes + RUNTIME_RAM > board.ram_bytes:
        notes.append(f"the arena could go to the {board.psram_bytes // (1024 * 1024)} MB PSRAM, "
                     "at a cost in speed")
    return FitReport(
        model=card.path,
        board=board,
        model_bytes=card.size_bytes,
        runtime_code_bytes=RUNTIME_CODE_BASE + RUNTIME_CODE_PER_KERNEL * len(card.op_names),
        arena_bytes=arena_bytes,
        runtime_ram_bytes=RUNTIME_RAM,
        problems=tuple(problems),
        notes=tuple(notes),
    )


async def fit_model(model: str | Path, boards: list[Board], ctx: JobContext) -> list[FitReport]:
    card = await asyncio.to_thread(inspect_model, model)
    ctx.progress(0.1, "measuring the tensor arena with TFLite Micro")
    arena = await measure_arena(model, ctx)
    return [fit_card(card, arena, b) for b in boards]


def fit_failure(reports: list[FitReport], model: str | Path) -> TinymlError | None:
    """The verdict of `fit`: an error when the one board asked about cannot take the model
    (a table of many boards is an overview, not a check)."""
    if len(reports) == 1 and (problem := reports[0].problem) is not None:
        return TinymlError(f"does not fit {reports[0].board.name}: {problem}", model)
    return None


def _kb(n: int) -> str:
    return f"{n / KB:,.1f} KB"


def render_fit(reports: list[FitReport]) -> str:
    if not reports:
        return ""
    r0 = reports[0]
    lines = [
        f"model {r0.model}: {r0.model_bytes:,} bytes + TFLite Micro runtime ≈ "
        f"{_kb(r0.runtime_code_bytes)} (estimate) in flash; arena {r0.arena_bytes:,} bytes "
        f"(measured) + ≈ {_kb(r0.runtime_ram_bytes)} (estimate) in RAM",
        "",
        f"{'board':<16} {'flash used / has':>24} {'margin':>12} {'RAM used / has':>24} "
        f"{'margin':>12}  verdict",
    ]
    for r in reports:
        b = r.board
        verdict = "fits" if r.fits else "DOES NOT FIT"
        lines.append(
            f"{b.id:<16} {_kb(r.flash_needed) + ' / ' + _kb(b.flash_bytes):>24} "
            f"{_kb(r.flash_margin):>12} {_kb(r.ram_needed) + ' / ' + _kb(b.ram_bytes):>24} "
            f"{_kb(r.ram_margin):>12}  {verdict}")
        for p in r.problems:
            lines.append(f"{'':<16} ✗ {p}")
        for n in r.notes:
            lines.append(f"{'':<16} · {n}")
    return "\n".join(lines)
