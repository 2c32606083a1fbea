"""The standalone C runtime on the emulated Cortex-M4, against the MLPerf Tiny records and
TFLite Micro, measured in one run.

Per model (the shared models, the benchmark twins of the MLPerf Tiny architectures, and the
fruit example): MACs, the SMLAD floor (MACs ÷ 2: two 16-bit MACs per DSP instruction),
instructions per inference on the emulated Cortex-M4F (QEMU mps2-an386, -icount: exact), the
record's cycles on a Cortex-M4 where one exists and our instructions ÷ those cycles (goal
<= 0.75), flash (code + constants; int8 weights in flash vs the model's, goal <= 1.05) and RAM
(arena + stack), the arena next to TFLite Micro's, whether the outputs are bit-exact with
TFLite Micro's interpreter (host build, random inputs), and the host speed-up over that
interpreter. Then the layers furthest above their SMLAD floor (the profiling firmware). Ends
with one line per figure: `name: measured (target)`.

TFLite Micro + CMSIS-NN on the same emulated board comes from the Arduino/TFLM work (not yet
available here): until `tflm_on_board` measures it, the TFLM columns show the reference figures
below, labelled as such, and no ratio against them is claimed as measured.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.standalone import guard  # noqa: E402
from tests.standalone.twins import TWINS, twin  # noqa: E402

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate  # noqa: E402
from tinyml_lsp.codegen.standalone.sizes import SizeReport, measure_sizes  # noqa: E402
from tinyml_lsp.codegen.standalone.validate import ValidateReport, validate  # noqa: E402
from tinyml_lsp.deploy.board_profile import (  # noqa: E402
    LayerProfile,
    profile_on_emulator,
    render_profile,
)
from tinyml_lsp.deploy.board_run import run_on_emulator  # noqa: E402
from tinyml_lsp.runtime.context import NullContext  # noqa: E402

# Reference figures, NOT measured in this run: TFLite Micro on this emulated Cortex-M4F as
# issue 14 quotes them (code flash of its runtime; instructions per inference with its reference
# kernels and with CMSIS-NN), and MLPerf Tiny's first-round TFLM + CMSIS-NN cycles for the
# twins' architectures (DESIGN.md).
TFLM_REFERENCE = {
    "hello_world_int8": {"code": 20 * 1024, "ref": 5_260, "cmsis": 3_505},
    "micro_speech_quantized": {"code": 33 * 1024, "ref": 9_310_269, "cmsis": 1_495_371},
    "person_detect": {"code": 37 * 1024, "ref": 95_591_614, "cmsis": 22_928_026},
    "vww_mobilenet": {"cmsis": 72_000_000},
    "kws_dscnn": {"cmsis": 22_000_000},
    "ic_resnet8": {"cmsis": 85_000_000},
    "ad_autoencoder": {"cmsis": 1_200_000},
}
RECORD_GOAL, FLASH_GOAL = 0.75, 1.05
ARENA_TARGET, CODE_TARGET = 0.8, 0.3
RANDOM_INPUTS = {"person_detect": 20, "vww_mobilenet": 10, "ic_resnet8": 20}
TOP_LAYERS = 3
PROFILED = {"person_detect", *(t.name for t in TWINS)}  # their top layers are printed


@dataclass
class Row:
    name: str
    gen: GeneratedModel
    report: ValidateReport
    sizes: SizeReport
    instructions: int
    profile: LayerProfile | None
    tflm_cmsis: int | None  # measured on the emulated board in this run, when available

    @property
    def macs(self) -> int:
        return sum(self.gen.macs)


async def tflm_on_board(name: str, path: Path) -> int | None:
    """TFLite Micro + CMSIS-NN instructions per inference on the emulated board.

    Not measurable here yet: it needs the TFLite Micro build for the emulated board (the
    Arduino-core work). Plug it in here: build the TFLM sketch of `path`, run it with
    deploy.board_run, return its instructions for guard.guard_input(name, ...)."""
    return None


async def measure(name: str, path: Path, work: Path, profile: bool) -> Row:
    gen = generate(path)
    report = await validate(path, NullContext(), random=RANDOM_INPUTS.get(name, 200), seed=1)
    sizes = await measure_sizes(gen, tflm=False)
    x = guard.guard_input(name, gen.inputs[0].shape)
    emu = await run_on_emulator(gen, x, work / "run")
    prof = await profile_on_emulator(path, work / "profile", inputs=x) if profile else None
    return Row(name, gen, report, sizes, emu.instructions[0], prof,
               await tflm_on_board(name, path))


def fruit_int8(work: Path) -> Path:
    """The fruit example, trained and quantized as `make demo` does."""
    from examples.demo import train_example

    from tinyml_lsp.model.quantize import quantize_model

    project = train_example("fruit-to-emoji", work / "fruit")
    result = asyncio.run(quantize_model(project / "fruit_model.keras", NullContext(),
                                        data=project / "fruit.csv"))
    return Path(result.files["int8"])


def _m(n: int | float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.2f}M" if n >= 100_000 else f"{n:,.0f}"


def print_tables(rows: list[Row]) -> None:
    print(f"{'model':<24}{'MACs':>8}{'floor':>8}{'instr':>8}{'÷floor':>7}{'record':>8}"
          f"{'÷record':>8}{'TFLM+CMSIS':>12}{'flash':>10}{'w ratio':>8}{'RAM':>9}"
          f"{'arena':>8}{'TFLM ar.':>9}{'host x':>8}  bit-exact")
    for r in rows:
        t = twin(r.name) if r.name in {tw.name for tw in TWINS} else None
        floor = (r.macs + 1) // 2
        ref = r.tflm_cmsis or TFLM_REFERENCE.get(r.name, {}).get("cmsis")
        ref_text = _m(ref) + ("" if r.tflm_cmsis else "*") if ref else "n/a"
        print(f"{r.name:<24}{_m(r.macs):>8}{_m(floor):>8}{_m(r.instructions):>8}"
              f"{(r.instructions / floor if floor else 0):>7.2f}"
              f"{_m(t.record_cycles if t else None):>8}"
              f"{(f'{r.instructions / t.record_cycles:.2f}' if t else 'n/a'):>8}"
              f"{ref_text:>12}{r.sizes.flash_bytes:>10,}"
              f"{r.gen.filter_bytes / r.gen.model_filter_bytes:>8.3f}{r.sizes.ram_bytes:>9,}"
              f"{r.report.arena_bytes:>8,}{(r.report.tflm_arena_bytes or 0):>9,}"
              f"{(r.report.speedup or 0):>7.1f}x  "
              f"{'yes' if r.report.ok else 'NO (' + str(r.report.mismatches) + ')'}")
    print("  * reference figure, not measured in this run (TFLite Micro + CMSIS-NN: issue 14's "
          "measurement for the shared models, MLPerf Tiny's first round for the twins)")
    print("  w ratio: int8 weights in flash (as the kernels read them) ÷ the model's int8 "
          "weights; flash = code + all constants; RAM = arena + stack")
    for r in rows:
        if r.profile:
            print(f"\n{r.name}: the {TOP_LAYERS} layers furthest above their SMLAD floor")
            print(render_profile(r.profile, top=TOP_LAYERS))


def print_figures(rows: list[Row]) -> None:
    print()
    for r in rows:
        n, rep = r.name, r.report
        t = twin(n) if n in {tw.name for tw in TWINS} else None
        print(f"{n} bit-exact outputs: {rep.elements - rep.mismatches}/{rep.elements} "
              f"({rep.elements}/{rep.elements})")
        if t:
            print(f"{n} instructions ÷ {t.record_by} record cycles ({t.benchmark}): "
                  f"{r.instructions / t.record_cycles:.2f} (<= {RECORD_GOAL})")
        if r.tflm_cmsis:
            print(f"{n} instructions ÷ TFLite Micro + CMSIS-NN (measured): "
                  f"{r.instructions / r.tflm_cmsis:.2f} (< 1)")
        elif n in TFLM_REFERENCE and "ref" in TFLM_REFERENCE[n]:
            ref = TFLM_REFERENCE[n]
            print(f"{n} instructions per inference: {r.instructions:,} (< {ref['ref']:,} "
                  f"TFLM reference kernels, < {ref['cmsis']:,} CMSIS-NN; reference figures)")
            print(f"{n} code flash ratio: {r.sizes.code_bytes / ref['code']:.2f} "
                  f"(<= {CODE_TARGET}, TFLM's code size as a reference figure)")
        print(f"{n} int8 weights in flash ÷ model's: "
              f"{r.gen.filter_bytes / r.gen.model_filter_bytes:.3f} (<= {FLASH_GOAL})")
        if rep.arena_ratio is not None:
            print(f"{n} arena ratio: {rep.arena_ratio:.2f} (<= {ARENA_TARGET})")
        print(f"{n} host speed-up over the tflite-micro interpreter: {rep.speedup:.1f}x (> 1)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = {**guard.guarded_models(), "fruit": fruit_int8(work)}
        rows = [asyncio.run(measure(n, p, work / n, n in PROFILED)) for n, p in models.items()]
    print_tables(rows)
    print_figures(rows)


if __name__ == "__main__":
    main()
