"""The standalone C runtime on the emulated Cortex-M4, against the MLPerf Tiny records and
TFLite Micro, measured in one run.

Per model (the shared models, the benchmark twins of the MLPerf Tiny architectures, and the
fruit example): MACs, the SMLAD floor (MACs ÷ 2: two 16-bit MACs per DSP instruction),
instructions per inference on the emulated Cortex-M4F (QEMU mps2-an386, -icount: exact), the
record's cycles on a Cortex-M4 where one exists and our instructions ÷ those cycles (goal
<= 0.75), flash (code + constants; int8 weights in flash vs the model's, goal <= 1.05) and RAM
(arena + the kernels' static blocks + stack), the arena next to TFLite Micro's, whether the
outputs are bit-exact with TFLite Micro's interpreter (host build, random inputs), and the
host speed-up over that
interpreter. Then the layers furthest above their SMLAD floor (the profiling firmware). Ends
with one line per figure: `name: measured (target)`.

TFLite Micro on the same emulated board, measured in the same run: each model's TFLite Micro
sketch (`tinyml sketch --runtime tflm`, the pinned Arduino library with its CMSIS-NN kernels)
built for the emulated Nano 33 BLE Sense and run on the same input (deploy.tflm_on_board):
instructions per inference, flash (the whole firmware, with and without the model's flatbuffer)
and RAM (the arena the interpreter used + the stack's high-water mark). TFLite Micro with its
reference kernels is measured when the pinned library can build it, else the bench says why.

Flash for speed: person_detect and the twins again with `--weights-budget 2.1` (int16 weights
for every convolution that has that form), next to the default build: instructions, flash, and
the board's outputs compared with the default build's.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.standalone import guard  # noqa: E402
from tests.standalone.twins import TWINS, Twin, twin_models  # noqa: E402

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate  # noqa: E402
from tinyml_lsp.codegen.standalone.sizes import SizeReport, measure_sizes  # noqa: E402
from tinyml_lsp.codegen.standalone.validate import ValidateReport, validate  # noqa: E402
from tinyml_lsp.deploy.board_profile import (  # noqa: E402
    LayerProfile,
    profile_on_emulator,
    render_profile,
)
from tinyml_lsp.deploy.board_run import run_on_emulator  # noqa: E402
from tinyml_lsp.deploy.tflm_on_board import (  # noqa: E402
    TflmOnBoard,
    reference_kernels_missing,
    tflm_on_board,
)
from tinyml_lsp.errors import TinymlError  # noqa: E402
from tinyml_lsp.runtime.context import NullContext  # noqa: E402

RECORD_GOAL, FLASH_GOAL = 0.75, 1.05
ARENA_TARGET = 0.8
RANDOM_INPUTS = {"person_detect": 20, "vww_mobilenet": 10, "ic_resnet8": 20}
TOP_LAYERS = 3
PROFILED = {"person_detect", *(t.name for t in TWINS)}  # their top layers are printed
# The twins TFLite Micro runs: the same networks and weights with one scale per dense weight
# tensor, which the pinned library computes right (it mis-computes per-channel dense layers).
TFLM_TWINS: dict[str, Path] = {}
WIDE_BUDGET = 2.1  # `--weights-budget`: every convolution with an int16 form takes it
WIDE = ("person_detect", *(t.name for t in TWINS))


@dataclass
class Row:
    name: str
    gen: GeneratedModel
    report: ValidateReport
    sizes: SizeReport
    instructions: int
    profile: LayerProfile | None
    tflm: TflmOnBoard | None  # TFLite Micro + CMSIS-NN on the emulated board, this run
    tflm_note: str  # why it is missing, when it is
    board_outputs: np.ndarray  # on the guard input

    @property
    def macs(self) -> int:
        return sum(self.gen.macs)

    @property
    def tflm_cmsis(self) -> int | None:
        return self.tflm.instructions[0] if self.tflm else None


TFLM_TIMEOUT = 1800.0  # seconds: a cold library build takes 5-15 minutes on 2 busy cores


async def measure_tflm(path: Path, x, work: Path) -> tuple[TflmOnBoard | None, str]:
    """The model's TFLite Micro sketch on the emulated board, on input `x`; or why not."""
    try:
        # the first sketch compiles the whole TFLite Micro library when its cache is cold
        r = await tflm_on_board(path, work, NullContext(), inputs=x, timeout=TFLM_TIMEOUT)
    except TinymlError as exc:
        return None, exc.message
    return (r, "") if r.outputs_equal else (None, "outputs differ from the host's")


async def measure(name: str, path: Path, work: Path, profile: bool) -> Row:
    gen = generate(path)
    report = await validate(path, NullContext(), random=RANDOM_INPUTS.get(name, 200), seed=1)
    sizes = await measure_sizes(gen, tflm=False)
    x = guard.guard_input(name, gen.inputs[0].shape)
    emu = await run_on_emulator(gen, x, work / "run")
    prof = await profile_on_emulator(path, work / "profile", inputs=x) if profile else None
    tflm, note = await measure_tflm(TFLM_TWINS.get(name, path), x, work / "tflm")
    return Row(name, gen, report, sizes, emu.instructions[0], prof, tflm, note, emu.outputs)


@dataclass
class WideRow:
    name: str
    gen: GeneratedModel
    sizes: SizeReport
    instructions: int
    same_outputs: bool  # as the default build's on the board


async def measure_wide(row: Row, path: Path, work: Path) -> WideRow:
    gen = generate(path, flash_budget=WIDE_BUDGET)
    emu = await run_on_emulator(gen, guard.guard_input(row.name, gen.inputs[0].shape), work)
    sizes = await measure_sizes(gen, tflm=False)
    return WideRow(row.name, gen, sizes, emu.instructions[0],
                   bool(np.array_equal(emu.outputs, row.board_outputs)))


def fruit_int8(work: Path) -> Path:
    """The fruit example, trained and quantized as `make demo` does (per-tensor dense
    weights, which the pinned TFLite Micro library computes right)."""
    from examples.demo import train_example

    from tinyml_lsp.model.quantize import quantize_model

    project = train_example("fruit-to-emoji", work / "fruit")
    result = asyncio.run(quantize_model(project / "fruit_model.keras", NullContext(),
                                        data=project / "fruit.csv", per_tensor_dense=True))
    return Path(result.files["int8"])


def _m(n: int | float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.2f}M" if n >= 100_000 else f"{n:,.0f}"


def print_tables(rows: list[Row]) -> None:
    print(f"{'model':<24}{'MACs':>8}{'floor':>8}{'instr':>8}{'÷floor':>7}{'record':>8}"
          f"{'÷record':>8}{'TFLM+CMSIS':>12}{'flash':>10}{'w ratio':>8}{'RAM':>9}"
          f"{'arena':>8}{'TFLM ar.':>9}{'host x':>8}  bit-exact")
    for r in rows:
        t = _twin(r.name)
        floor = (r.macs + 1) // 2
        ref_text = _m(r.tflm_cmsis)
        print(f"{r.name:<24}{_m(r.macs):>8}{_m(floor):>8}{_m(r.instructions):>8}"
              f"{(r.instructions / floor if floor else 0):>7.2f}"
              f"{_m(t.record_cycles if t else None):>8}"
              f"{_per_record(t, r.instructions):>8}"
              f"{ref_text:>12}{r.sizes.flash_bytes:>10,}"
              f"{r.gen.filter_bytes / r.gen.model_filter_bytes:>8.3f}{r.sizes.ram_bytes:>9,}"
              f"{r.report.arena_bytes:>8,}{(r.report.tflm_arena_bytes or 0):>9,}"
              f"{(r.report.speedup or 0):>7.1f}x  "
              f"{'yes' if r.report.ok else 'NO (' + str(r.report.mismatches) + ')'}")
    print("  TFLM+CMSIS: TFLite Micro with CMSIS-NN kernels on the emulated board, this run; "
          "record: the MLPerf Tiny record's cycles on a Cortex-M4")
    print("  w ratio: int8 weights in flash (as the kernels read them) ÷ the model's int8 "
          "weights; flash = code + all constants; RAM = arena + static (the kernels' argument "
          "blocks) + stack")
    print_tflm(rows)
    for r in rows:
        if r.profile:
            print(f"\n{r.name}: the {TOP_LAYERS} layers furthest above their SMLAD floor")
            print(render_profile(r.profile, top=TOP_LAYERS))


def print_tflm(rows: list[Row]) -> None:
    print("\nTFLite Micro + CMSIS-NN sketches on the emulated board (same input, this run), "
          "next to the standalone runtime")
    print(f"{'model':<24}{'TFLM instr':>12}{'ours':>9}{'÷TFLM':>7}{'TFLM flash':>12}"
          f"{'w/o model':>11}{'TFLM RAM':>10}{'arena':>9}{'stack':>7}{'our RAM':>9}{'÷TFLM':>7}")
    for r in rows:
        t = r.tflm
        if t is None:
            print(f"{r.name:<24}{'n/a':>12}  ({r.tflm_note})")
            continue
        print(f"{r.name:<24}{_m(t.instructions[0]):>12}{_m(r.instructions):>9}"
              f"{r.instructions / t.instructions[0]:>7.2f}{t.flash_bytes:>12,}"
              f"{t.code_bytes:>11,}{t.ram_bytes:>10,}{t.arena_bytes:>9,}{t.stack_bytes:>7,}"
              f"{r.sizes.ram_bytes:>9,}{r.sizes.ram_bytes / t.ram_bytes:>7.2f}")
    print("  TFLM flash: the whole sketch firmware (TFLite Micro, kernels, Arduino core, "
          "serial report) with its model; w/o model: without the flatbuffer. TFLM RAM: "
          "arena_used_bytes() + the stack's high-water mark, both measured on the board. "
          "The twins run on TFLite Micro with one scale per dense weight tensor (the pinned "
          "library mis-computes per-channel dense layers), on the same input")
    if missing := reference_kernels_missing():
        print("  TFLite Micro with its reference kernels: not measured — the pinned library "
              f"ships only CMSIS-NN sources of {', '.join(missing)} (the reference kernels are "
              "headers without their TFLite Micro op registration), so that build cannot be "
              "made from it")


def _twin(name: str) -> Twin | None:
    return next((t for t in TWINS if t.name == name), None)


def _per_record(t: Twin | None, instructions: int) -> str:
    return f"{instructions / t.record_cycles:.2f}" if t else "n/a"


def print_wide(rows: list[Row], wides: list[WideRow]) -> None:
    print(f"\nFlash for speed: --weights-budget {WIDE_BUDGET} (int16 weights) next to the "
          "default build, on the emulated board")
    print(f"{'model':<24}{'instr':>8}{'÷record':>8}{'flash':>10}{'w ratio':>8}{'RAM':>8}"
          f"{'default':>9}{'÷record':>8}{'flash':>10}{'w ratio':>8}{'RAM':>8}  same outputs")
    by_name = {r.name: r for r in rows}
    for w in wides:
        r, t = by_name[w.name], _twin(w.name)
        print(f"{w.name:<24}{_m(w.instructions):>8}{_per_record(t, w.instructions):>8}"
              f"{w.sizes.flash_bytes:>10,}{w.gen.filter_bytes / w.gen.model_filter_bytes:>8.3f}"
              f"{w.sizes.ram_bytes:>8,}{_m(r.instructions):>9}{_per_record(t, r.instructions):>8}"
              f"{r.sizes.flash_bytes:>10,}"
              f"{r.gen.filter_bytes / r.gen.model_filter_bytes:>8.3f}{r.sizes.ram_bytes:>8,}  "
              f"{'yes' if w.same_outputs else 'NO'}")
    print("  flash = code + all constants; RAM = arena + static + stack (a dense layer with int16 "
          "weights runs as the lean convolution, whose frame is bigger)")


def print_figures(rows: list[Row]) -> None:
    print()
    for r in rows:
        n, rep = r.name, r.report
        t = _twin(n)
        print(f"{n} bit-exact outputs: {rep.elements - rep.mismatches}/{rep.elements} "
              f"({rep.elements}/{rep.elements})")
        if t:
            print(f"{n} instructions ÷ {t.record_by} record cycles ({t.benchmark}): "
                  f"{r.instructions / t.record_cycles:.2f} (<= {RECORD_GOAL})")
        if r.tflm:
            print(f"{n} instructions ÷ TFLite Micro + CMSIS-NN (measured"
                  f"{', per-tensor dense twin' if n in TFLM_TWINS else ''}): "
                  f"{r.instructions / r.tflm.instructions[0]:.2f} (< 1)")
            print(f"{n} RAM ÷ TFLite Micro's (measured: ours arena + static + stack, theirs "
                  "arena + stack"
                  f"{', per-tensor dense twin' if n in TFLM_TWINS else ''}): "
                  f"{r.sizes.ram_bytes / r.tflm.ram_bytes:.2f} (< 1)")
        print(f"{n} int8 weights in flash ÷ model's: "
              f"{r.gen.filter_bytes / r.gen.model_filter_bytes:.3f} (<= {FLASH_GOAL})")
        if rep.arena_ratio is not None:
            print(f"{n} arena ratio: {rep.arena_ratio:.2f} (<= {ARENA_TARGET})")
        print(f"{n} host speed-up over the tflite-micro interpreter: {rep.speedup:.1f}x (> 1)")


def main() -> None:
    TFLM_TWINS.update(twin_models(per_tensor_dense=True))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = {**guard.guarded_models(), "fruit": fruit_int8(work)}
        rows = [asyncio.run(measure(n, p, work / n, n in PROFILED)) for n, p in models.items()]
        wides = [asyncio.run(measure_wide(r, models[r.name], work / f"{r.name}-wide"))
                 for r in rows if r.name in WIDE]
    print_tables(rows)
    print_wide(rows, wides)
    print_figures(rows)
    for w in wides:
        if t := _twin(w.name):
            print(f"{w.name} instructions ÷ {t.record_by} record cycles with --weights-budget "
                  f"{WIDE_BUDGET}: {w.instructions / t.record_cycles:.2f} (<= {RECORD_GOAL})")


if __name__ == "__main__":
    main()
