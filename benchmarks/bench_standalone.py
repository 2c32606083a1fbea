"""The standalone C runtime against TFLite Micro, measured side by side in one run.

Per model: activation arena (ours vs TFLite Micro's measured arena), code flash without the
weights (arm-none-eabi-gcc -Os for a Cortex-M4F, vs TFLite Micro's own runtime on this target),
instructions per inference on the emulated Cortex-M4F (QEMU mps2-an386, -icount; vs TFLite
Micro's reference kernels and CMSIS-NN), host time per inference (generated C vs the
tflite-micro interpreter), and whether the outputs are bit-exact (random inputs). Ends with one
line per figure: `name: measured (target)`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyml_lsp.codegen.standalone.emit import generate  # noqa: E402
from tinyml_lsp.codegen.standalone.sizes import measure_sizes  # noqa: E402
from tinyml_lsp.codegen.standalone.validate import validate  # noqa: E402
from tinyml_lsp.deploy.board_run import run_on_emulator  # noqa: E402
from tinyml_lsp.model.datasets import load_dataset  # noqa: E402
from tinyml_lsp.runtime.context import NullContext  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
DATA = ROOT.parent / "shared" / "data"
# TFLite Micro on the Cortex-M4F target, from the issue: code flash of its runtime, and
# instructions per inference with its reference kernels (-Os) and with CMSIS-NN.
TFLM = {
    "hello_world_int8": {"code": 20 * 1024, "ref": 5_260, "cmsis": 3_505},
    "micro_speech_quantized": {"code": 33 * 1024, "ref": 9_310_269, "cmsis": 1_495_371},
    "person_detect": {"code": 37 * 1024, "ref": 95_591_614, "cmsis": 22_928_026},
}
ARENA_TARGET, ARENA_AIM, CODE_TARGET = 0.8, 0.5, 0.3
RANDOM_INPUTS = {"person_detect": 20}


async def measure(name: str, path: Path) -> dict:
    ctx = NullContext()
    gen = generate(path)
    report = await validate(path, ctx, random=RANDOM_INPUTS.get(name, 200), seed=1)
    sizes = await measure_sizes(gen, tflm=False)
    # the inputs TFLite Micro's figures were measured on: person.bmp for person_detect (its
    # bytes are the int8 input), a zero input for the others
    if name == "person_detect":
        image = load_dataset(DATA / "person.bmp", (1, 96, 96, 1), pixel_range="int8")
        x = image.x.astype(np.int8)
    else:
        x = np.zeros((1, *gen.inputs[0].shape), dtype=np.int8)
    with tempfile.TemporaryDirectory() as tmp:
        emu = await run_on_emulator(gen, x, tmp)
    return {"name": name, "report": report, "sizes": sizes, "instructions": emu.instructions[0]}


def fruit_int8(work: Path) -> Path:
    """The fruit example, trained and quantized as `make demo` does."""
    from examples.demo import train_example

    from tinyml_lsp.model.quantize import quantize_model

    project = train_example("fruit-to-emoji", work / "fruit")
    result = asyncio.run(quantize_model(project / "fruit_model.keras", NullContext(),
                                        data=project / "fruit.csv"))
    return Path(result.files["int8"])


def main() -> None:
    models = [(n, MODELS / f"{n}.tflite") for n in TFLM]
    with tempfile.TemporaryDirectory() as tmp:
        models.append(("fruit", fruit_int8(Path(tmp))))
        rows = [asyncio.run(measure(n, p)) for n, p in models]
    print(f"{'model':<24}{'arena':>9}{'TFLM':>9}{'ratio':>7}{'code':>8}{'TFLM':>8}{'ratio':>7}"
          f"{'instr M4':>12}{'TFLM ref':>12}{'CMSIS-NN':>12}{'host C':>10}{'host TFLM':>11}"
          f"  bit-exact")
    for r in rows:
        t = TFLM.get(r["name"], {})
        rep, size = r["report"], r["sizes"]
        code_ref = t.get("code")
        ref = f"{t['ref']:,}" if t else "n/a"
        cmsis = f"{t['cmsis']:,}" if t else "n/a"
        print(f"{r['name']:<24}{rep.arena_bytes:>9,}{rep.tflm_arena_bytes:>9,}"
              f"{rep.arena_ratio:>7.2f}{size.code_bytes:>8,}"
              f"{(f'{code_ref:,}' if code_ref else 'n/a'):>8}"
              f"{(f'{size.code_bytes / code_ref:.2f}' if code_ref else 'n/a'):>7}"
              f"{r['instructions']:>12,}{ref:>12}{cmsis:>12}"
              f"{rep.ns_per_invoke / 1e3:>8.1f}µs{rep.tflm_ns_per_invoke / 1e3:>9.1f}µs"
              f"  {'yes' if rep.ok else 'NO (' + str(rep.mismatches) + ')'}")
    print()
    print("RAM = arena + stack estimate; flash = code + weights and constants:")
    for r in rows:
        s = r["sizes"]
        print(f"  {r['name']:<24} RAM {s.ram_bytes:,} (arena {s.arena_bytes:,} + stack "
              f"≈{s.stack_bytes:,})   flash {s.flash_bytes:,} (code {s.code_bytes:,} + "
              f"constants {s.const_bytes:,})")
    print()
    for r in rows:
        n, rep, t = r["name"], r["report"], TFLM.get(r["name"])
        print(f"{n} bit-exact outputs: {rep.elements - rep.mismatches}/{rep.elements} "
              f"({rep.elements}/{rep.elements})")
        print(f"{n} arena ratio: {rep.arena_ratio:.2f} (<= {ARENA_TARGET}, aim <= {ARENA_AIM})")
        if t:
            print(f"{n} code flash ratio: {r['sizes'].code_bytes / t['code']:.2f} "
                  f"(<= {CODE_TARGET})")
            print(f"{n} instructions per inference: {r['instructions']:,} "
                  f"(< {t['ref']:,} reference, aim <= {t['cmsis']:,} CMSIS-NN)")
        print(f"{n} host speed-up over the tflite-micro interpreter: {rep.speedup:.1f}x (> 1)")


if __name__ == "__main__":
    main()
