"""Does a model fit a board? Flash and RAM for the chosen runtime, against the board table.

TFLite Micro (`runtime="tflm"`): measured, the model's bytes (the flatbuffer goes to flash as
is) and the tensor arena (TFLite Micro's interpreter); estimated, and labelled so, the runtime's
own code (a linear fit to builds for the Cortex-M4 with gcc -Os: 20 KB for one kernel, 33 KB
for four, 37 KB for five) and a few KB of RAM for the interpreter objects and the stack.

The standalone runtime (`runtime="standalone"`): measured, all of it — the generated C built
for a Cortex-M4F with arm-none-eabi-gcc -Os (code, weights and constants), its static arena and
its deepest stack (GCC's call graph); other cores differ a little, and say so.

Both add the framework's own footprint where the board table knows it (an empty Arduino
sketch on that board).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.boards import KB, Board
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import HYBRID_REFUSAL, ModelCard, inspect_model
from tinyml_lsp.model.micro import ArenaReport, measure_arena
from tinyml_lsp.runtime.context import JobContext, Stage

RUNTIMES = ("tflm", "standalone")
RUNTIME_CODE_BASE = 16 * KB  # interpreter, allocator, flatbuffer reader
RUNTIME_CODE_PER_KERNEL = 4400  # average per distinct op kernel
RUNTIME_RAM = 2 * KB  # interpreter and op resolver objects, call stack of Invoke()


@dataclass(frozen=True)
class Footprint:
    """What a runtime needs on a board, besides the framework."""

    runtime: str
    model_bytes: int  # flash: the model (tflm: the flatbuffer; standalone: weights, constants)
    code_bytes: int  # flash: the runtime's code
    ram_bytes: int  # the arena, and (standalone) the stack
    extra_ram_bytes: int  # tflm: interpreter objects and stack, estimated
    measured: bool  # code and RAM measured (standalone), or partly estimated (tflm)
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitReport:
    model: str
    board: Board
    footprint: Footprint
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def flash_needed(self) -> int:
        f = self.footprint
        return f.model_bytes + f.code_bytes + self.board.framework_flash_bytes

    @property
    def ram_needed(self) -> int:
        f = self.footprint
        return f.ram_bytes + f.extra_ram_bytes + self.board.framework_ram_bytes

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
                 "fits": self.fits, "problem": self.problem}
        return data


def tflm_footprint(card: ModelCard, arena: ArenaReport | None) -> Footprint:
    problems = []
    if card.quantization == "hybrid":
        problems.append(HYBRID_REFUSAL)
    elif arena is not None and arena.missing_ops:
        problems.append(arena.message)
    return Footprint("tflm", card.size_bytes,
                     RUNTIME_CODE_BASE + RUNTIME_CODE_PER_KERNEL * len(card.op_names),
                     arena.arena_bytes or 0 if arena else 0, RUNTIME_RAM, False, tuple(problems))


def fit_card(card: ModelCard, footprint: Footprint, board: Board) -> FitReport:
    problems = list(footprint.problems)
    notes: list[str] = []
    if board.bits < 32:
        problems.append(f"TFLite Micro and the standalone runtime need a 32-bit core; the "
                        f"{board.mcu} is {board.bits}-bit")
    if card.quantization in ("float", "float16") and board.fpu == "none":
        notes.append(f"a float model on the {board.core} (no FPU) runs in software floating "
                     "point, typically 10× slower: quantize to int8")
    elif card.quantization in ("float", "float16"):
        notes.append("a float model is about 4× the size of its int8 version")
    if board.psram_bytes and footprint.ram_bytes + footprint.extra_ram_bytes > board.ram_bytes:
        notes.append(f"the arena could go to the {board.psram_bytes // (1024 * 1024)} MB PSRAM, "
                     "at a cost in speed")
    if footprint.runtime == "standalone" and board.core != "Cortex-M4F":
        notes.append(f"sizes measured for a Cortex-M4F; the {board.core} differs a little")
    if board.framework_flash_bytes:
        notes.append(f"includes ≈{_kb(board.framework_flash_bytes)} flash and "
                     f"≈{_kb(board.framework_ram_bytes)} RAM of the board's Arduino core "
                     "(an empty sketch)")
    return FitReport(card.path, board, footprint, tuple(problems), tuple(notes))


async def fit_model(model: str | Path, boards: list[Board], ctx: JobContext, *,
                    runtime: str = "tflm") -> list[FitReport]:
    if runtime not in RUNTIMES:
        raise TinymlError(f"unknown runtime {runtime!r} (one of {', '.join(RUNTIMES)})")
    card = await asyncio.to_thread(inspect_model, model)
    if runtime == "standalone":
        ctx.progress(0.1, "measuring the generated C with the ARM compiler")
        # the generator brings numpy: imported here, not when the server starts (check.ini)
        from tinyml_lsp.codegen.standalone.sizes import measure_sizes

        sizes = await measure_sizes(model, Stage(ctx, 0.1, 1.0), tflm=False)
        footprint = Footprint("standalone", sizes.const_bytes + sizes.data_bytes,
                              sizes.code_bytes, sizes.ram_bytes, 0, True)
    else:
        arena = None
        if card.quantization != "hybrid":  # the interpreter would only fail to prepare it
            ctx.progress(0.1, "measuring the tensor arena with TFLite Micro")
            arena = await measure_arena(model, ctx)
        footprint = tflm_footprint(card, arena)
    return [fit_card(card, footprint, b) for b in boards]


def fit_failure(reports: list[FitReport], model: str | Path) -> TinymlError | None:
    """The verdict of `fit` on the boards asked about: an error naming every one that cannot
    take the model."""
    failing = [r for r in reports if not r.fits]
    if not failing:
        return None
    return TinymlError("does not fit " + "; ".join(f"{r.board.name}: {r.problem}"
                                                   for r in failing), model)


def _kb(n: int) -> str:
    return f"{n / KB:,.1f} KB"


def render_fit(reports: list[FitReport]) -> str:
    if not reports:
        return ""
    f = reports[0].footprint
    if f.runtime == "tflm":
        head = (f"model {reports[0].model}, TFLite Micro: {f.model_bytes:,} bytes of model + "
                f"runtime ≈ {_kb(f.code_bytes)} (estimate) in flash; arena {f.ram_bytes:,} "
                f"bytes (measured) + ≈ {_kb(f.extra_ram_bytes)} (estimate) in RAM")
    else:
        head = (f"model {reports[0].model}, standalone C (measured, Cortex-M4F): weights and "
                f"constants {f.model_bytes:,} + code {f.code_bytes:,} bytes in flash; arena "
                f"and stack {f.ram_bytes:,} bytes in RAM")
    table = [("board", "flash used / has", "margin", "RAM used / has", "margin", "verdict")]
    for r in reports:
        b = r.board
        table.append((b.id, f"{_kb(r.flash_needed)} / {_kb(b.flash_bytes)}",
                      _kb(r.flash_margin), f"{_kb(r.ram_needed)} / {_kb(b.ram_bytes)}",
                      _kb(r.ram_margin), "fits" if r.fits else "DOES NOT FIT"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [head, ""]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:5], widths[1:5],
                                                                          strict=True)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
        if n == 0:
            continue
        r = reports[n - 1]
        lines += [f"{'':<{widths[0]}}  ✗ {p}" for p in r.problems]
        lines += [f"{'':<{widths[0]}}  · {note}" for note in r.notes]
    return "\n".join(lines)
