"""`make demo`: the lifecycle on the fruit example, end to end, on the emulated board.

Train the fruit-to-emoji model (seconds), quantize it to int8 with its CSV as representative
data, verify it in TFLite Micro's interpreter against the float model on held-out rows, export
it as C, check it fits real boards, generate the standalone C and its PlatformIO project for the
emulated Cortex-M4 board, build it, flash it to QEMU, read the board's predictions back over its
UART, and print them next to the host's with the monitor's on-board verdict. Then the classic
case: the same model as a TensorFlow Lite Micro sketch for the Arduino Nano 33 BLE Sense reading
its APDS-9960 colour sensor, run on the emulated board with the held-out colour readings
replayed through the emulated sensor, its predictions next to the host's and the true labels.
Everything happens under .state/demo/ so the examples' own folders stay clean.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEMO_VECTORS = 12  # held-out rows the firmware runs
SHOWN_ROWS = 24  # predictions printed per run (the verdict covers them all)
EXAMPLES = REPO / "examples"
GENERATED = shutil.ignore_patterns("data", "*.csv", "*.keras", "*.tflite", "out", "*_report.*",
                                   "__pycache__")


def train_example(name: str, dest: Path) -> Path:
    """A fresh copy of an example with its data generated and its model trained."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(EXAMPLES / name, dest, ignore=GENERATED)
    for script in ("make_data.py", "train.py"):
        proc = subprocess.run([sys.executable, script], cwd=dest, capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}/{script} failed:\n{proc.stderr[-3000:]}")
    return dest


class StepContext:
    """Progress for the demo: one line per stage, no bar."""

    def __init__(self) -> None:
        self.last = ""

    def progress(self, fraction: float | None, message: str) -> None:
        stage = message.split(":")[0]
        if stage != self.last and not stage.startswith("arena"):
            print(f"    {message}", flush=True)
            self.last = stage

    def log(self, line: str) -> None:
        pass


Prediction = tuple  # (row, true, host, board, score, instructions, outputs equal)


def predictions(run, sk) -> list[Prediction]:
    """Each inference the board reported, next to the host's answer and the true label."""
    rows = []
    for inference, expected, truth in zip(run.inferences, sk.expected.outputs,
                                          sk.vectors.truths, strict=True):
        rows.append((inference.seq, sk.labels[truth] if truth is not None else "?",
                     sk.labels[int(np.argmax(expected))], inference.label or "?",
                     inference.score or 0.0, inference.instructions,
                     tuple(expected) == inference.output))
    return rows


async def tflm_sensor_sketch(project: Path, int8: Path, ctx, step, done
                             ) -> tuple[list[Prediction], str, bool]:
    """The fruit model as a TFLite Micro sketch for the Nano 33 BLE Sense reading its
    APDS-9960, run on the emulated board with the held-out readings replayed."""
    from tinyml_lsp.deploy import emulator, replay
    from tinyml_lsp.deploy.arduino_ini import EMULATED_ENV
    from tinyml_lsp.deploy.board_run import flash_and_read
    from tinyml_lsp.deploy.platformio import build
    from tinyml_lsp.deploy.sketch import sketch_model
    from tinyml_lsp.deploy.verdict import render_verdict

    readings = project / "fruit_holdout_readings.csv"
    step("generate the TFLite Micro sketch for the Nano 33 BLE Sense (--input apds9960)")
    sketch = project / "fruit_nano33ble_sketch"
    sk = await sketch_model(int8, sketch, ctx, board="nano33ble", input="apds9960",
                            data=readings)
    done("sketch (TFLM)", f"{sketch.relative_to(REPO)}: TFLite Micro, arena "
         f"{sk.arena_bytes:,} B, features from features.toml, {len(sk.vectors)} readings")

    step(f"build its {EMULATED_ENV} env (the first build compiles the TFLite Micro library, "
         "~10 minutes, then cached)")
    b = await build(sketch, ctx, env=EMULATED_ENV, timeout=1800)
    done("build (TFLM)", f"emulated Nano 33 BLE Sense: flash {b.flash_used:,} B, RAM "
         f"{b.ram_used:,} B")

    step("flash it with the held-out readings replayed through the emulated APDS-9960")
    replay.prepare(sketch, [str(readings)])
    try:
        run = await flash_and_read(sketch, ctx, env=EMULATED_ENV)
    finally:
        emulator.stop(sketch)
    verdict = run.verdict
    if verdict is None:
        raise SystemExit("the sketch has no record of the host's outputs")
    per = sum(i.instructions for i in run.inferences) / len(run.inferences)
    done("replay + monitor", f"{len(run.inferences)} readings classified on the board, "
         f"{per:,.0f} instructions per inference; " + (verdict.problem or f"{verdict.equal} "
         f"of {verdict.vectors} outputs equal the host's"))
    return predictions(run, sk), render_verdict(verdict), verdict.ok


async def lifecycle(work: Path) -> tuple[list[tuple[str, str, str]],
                                         list[tuple[list[Prediction], str, bool]]]:
    from tinyml_lsp.codegen.c_array import export_model
    from tinyml_lsp.codegen.standalone.validate import validate
    from tinyml_lsp.deploy import emulator
    from tinyml_lsp.deploy.board_run import flash_and_read
    from tinyml_lsp.deploy.boards import board_by_id
    from tinyml_lsp.deploy.fit import fit_model
    from tinyml_lsp.deploy.platformio import build
    from tinyml_lsp.deploy.sketch import sketch_model
    from tinyml_lsp.deploy.verdict import render_verdict
    from tinyml_lsp.model.quantize import quantize_model
    from tinyml_lsp.model.verify import verify_model

    ctx = StepContext()
    rows: list[tuple[str, str, str]] = []
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        print(f"==> {name}", flush=True)
        clock[0] = time.perf_counter()

    def done(name: str, result: str) -> None:
        rows.append((name, result, f"{time.perf_counter() - clock[0]:.1f} s"))

    step("train the fruit example (make_data.py, train.py)")
    project = train_example("fruit-to-emoji", work / "fruit-to-emoji")
    done("train", "fruit_model.keras (3 colour ratios → apple/banana/orange)")

    # one scale per dense weight tensor: the pinned TFLite Micro library (the sketch at the end)
    # computes only that right; the standalone C takes either
    step("quantize to int8 with fruit.csv as representative data (per-tensor dense weights)")
    q = await quantize_model(project / "fruit_model.keras", ctx, data=project / "fruit.csv",
                             per_tensor_dense=True)
    int8 = Path(q.files["int8"])
    done("quantize", f"{int8.name}: {q.cards['int8'].size_bytes:,} bytes, "
         f"{', '.join(q.cards['int8'].op_names)}")

    step("verify in TFLite Micro on held-out rows, against the Keras model")
    holdout = project / "fruit_holdout.csv"
    v = await verify_model(int8, ctx, data=holdout, reference=project / "fruit_model.keras")
    done("verify", f"TFLite Micro arena {v.arena_bytes:,} B; accuracy {100 * v.accuracy:.1f}% "
         f"(float {100 * v.reference_accuracy:.1f}%); top-1 agreement "
         f"{100 * v.top1_agreement:.1f}% on {v.samples} rows")
    if v.top1_agreement < 0.98:
        raise SystemExit(f"int8 agreement {v.top1_agreement:.3f} is below 98%")

    step("export model_data.h / model_data.cc (for TFLite Micro sketches)")
    e = await export_model(int8, project / "out", ctx)
    done("export", f"{Path(e.header).relative_to(REPO)} (+ .cc), {e.model_bytes:,} bytes")

    step("fit on boards")
    boards = [board_by_id(b) for b in ("nano33ble", "uno")]
    fits = await fit_model(int8, boards, ctx)
    done("fit", "; ".join(f"{r.board.id}: {'fits' if r.fits else 'does not fit'} "
                          f"(RAM {r.ram_needed:,}/{r.board.ram_bytes:,} B)" for r in fits))

    step("validate the standalone C against TFLite Micro on the host")
    val = await validate(int8, ctx, data=holdout)
    done("validate", f"{val.samples} rows, {val.mismatches} mismatches; arena "
         f"{val.arena_bytes:,} B vs TFLite Micro {val.tflm_arena_bytes:,} B")
    if not val.ok:
        raise SystemExit("the generated C differs from TFLite Micro")

    step("generate the inference sketch for the emulated board (tinyml-qemu-m4)")
    firmware = project / "fruit_model_firmware"
    sk = await sketch_model(int8, firmware, ctx, data=holdout, vectors=DEMO_VECTORS)
    sizes = (f"RAM {sk.sizes.ram_bytes:,} B (arena {sk.arena_bytes:,} + stack), flash "
             f"{sk.sizes.flash_bytes:,} B (code {sk.sizes.code_bytes:,} + weights)"
             if sk.sizes else f"arena {sk.arena_bytes:,} B")
    done("sketch", f"{Path(sk.project).relative_to(REPO)}: standalone C, {sizes}, "
         f"{len(sk.inputs)} test vectors (stratified by class)")

    step("build with PlatformIO (pio run)")
    b = await build(firmware, ctx)
    done("build", f"flash {b.flash_used:,} B, RAM {b.ram_used:,} B of the board's 4 MB each")

    step("flash to the emulated board (QEMU) and read its serial output")
    try:
        run = await flash_and_read(firmware, ctx)
    finally:
        emulator.stop(firmware)
    per = sum(i.instructions for i in run.inferences) / len(run.inferences)
    done("flash + monitor", f"{len(run.inferences)} inferences read back, "
         f"{per:,.0f} instructions per inference on the Cortex-M4")

    # the host's answers (TFLite Micro's interpreter) came with the project; the monitor's
    # verdict compared them with the board's, element by element
    verdict = run.verdict
    if verdict is None:
        raise SystemExit("the firmware project has no record of the host's outputs")
    done("on-board check", verdict.problem or f"{verdict.equal} of {verdict.vectors} outputs "
         "equal the host's")
    tflm = await tflm_sensor_sketch(project, int8, ctx, step, done)
    return rows, [(predictions(run, sk), render_verdict(verdict), verdict.ok), tflm]


def main() -> int:
    work = REPO / ".state" / "demo"
    work.mkdir(parents=True, exist_ok=True)
    from tinyml_lsp.errors import TinymlError

    try:
        rows, runs = asyncio.run(lifecycle(work))
    except TinymlError as exc:
        print(f"error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    width = max(len(r[1]) for r in rows)
    print("\nThe lifecycle")
    print(f"{'step':<16} {'result':<{width}}  time")
    print(f"{'-' * 16} {'-' * width}  ------")
    for name, result, seconds in rows:
        print(f"{name:<16} {result:<{width}}  {seconds}")
    titles = ("the standalone C firmware on its held-out rows",
              "the TensorFlow Lite Micro sketch on the held-out colour readings, replayed "
              "through the emulated APDS-9960")
    for title, (table, verdict, _) in zip(titles, runs, strict=True):
        print(f"\nPredictions read back from the emulated board ({title}), next to the host's "
              "(TFLite Micro interpreter, same int8 inputs)")
        print(f"{'row':>4}  {'true':<8} {'host':<8} {'board':<8} {'score':>7} "
              f"{'instructions':>13}  outputs equal")
        for seq, true, host, board, score, instructions, same in table[:SHOWN_ROWS]:
            print(f"{seq:>4}  {true:<8} {host:<8} {board:<8} {score:>7.3f} {instructions:>13,}"
                  f"  {'yes' if same else 'NO'}")
        if len(table) > SHOWN_ROWS:
            wrong = [row for row in table[SHOWN_ROWS:] if not row[-1]]
            print(f"   … and {len(table) - SHOWN_ROWS} more rows ({len(wrong)} with outputs "
                  "unlike the host's)")
        print(f"\n{verdict}")
    return 0 if all(ok for _, _, ok in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
