"""`make demo`: the lifecycle on the fruit example, end to end, with a summary table.

Train the fruit-to-emoji model (seconds), quantize it to int8 with its CSV as representative
data, verify it in TFLite Micro's interpreter against the float model on held-out rows, export
it as C, and check it fits a Nano 33 BLE Sense and the emulated board. Everything happens under
.state/demo/ so the examples' own folders stay clean.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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


async def lifecycle(work: Path) -> list[tuple[str, str, str]]:
    from tinyml_lsp.codegen.c_array import export_model
    from tinyml_lsp.deploy.boards import board_by_id
    from tinyml_lsp.deploy.fit import fit_model
    from tinyml_lsp.model.quantize import quantize_model
    from tinyml_lsp.model.verify import verify_model

    ctx = StepContext()
    rows: list[tuple[str, str, str]] = []

    def step(name: str) -> float:
        print(f"==> {name}", flush=True)
        return time.perf_counter()

    t = step("train the fruit example (make_data.py, train.py)")
    project = train_example("fruit-to-emoji", work / "fruit-to-emoji")
    rows.append(("train", "fruit_model.keras (3 colour ratios → apple/banana/orange)",
                 f"{time.perf_counter() - t:.1f} s"))

    t = step("quantize to int8 with fruit.csv as representative data")
    q = await quantize_model(project / "fruit_model.keras", ctx, data=project / "fruit.csv")
    int8 = Path(q.files["int8"])
    rows.append(("quantize", f"{int8.name}: {q.cards['int8'].size_bytes:,} bytes, "
                 f"{', '.join(q.cards['int8'].op_names)}", f"{time.perf_counter() - t:.1f} s"))

    t = step("verify in TFLite Micro on held-out rows, against the Keras model")
    v = await verify_model(int8, ctx, data=project / "fruit_holdout.csv",
                           reference=project / "fruit_model.keras")
    rows.append(("verify", f"arena {v.arena_bytes:,} B; accuracy {100 * v.accuracy:.1f}% "
                 f"(float {100 * v.reference_accuracy:.1f}%); top-1 agreement "
                 f"{100 * v.top1_agreement:.1f}% on {v.samples} rows",
                 f"{time.perf_counter() - t:.1f} s"))

    t = step("export model_data.h / model_data.cc")
    e = await export_model(int8, project / "out", ctx)
    rows.append(("export", f"{Path(e.header).relative_to(REPO)} (+ .cc), "
                 f"{e.model_bytes:,} bytes as g_model[]", f"{time.perf_counter() - t:.1f} s"))

    t = step("fit on boards")
    boards = [board_by_id(b) for b in ("nano33ble", "tinyml-qemu-m4", "uno")]
    for r in await fit_model(int8, boards, ctx):
        verdict = "fits" if r.fits else "does not fit"
        rows.append((f"fit {r.board.id}", f"{verdict}: flash {r.flash_needed:,} of "
                     f"{r.board.flash_bytes:,} B, RAM {r.ram_needed:,} of {r.board.ram_bytes:,} B"
                     + (f" — {r.problems[0]}" if r.problems else ""), ""))
    rows[-1] = (*rows[-1][:2], f"{time.perf_counter() - t:.1f} s")
    if v.top1_agreement < 0.98:
        raise SystemExit(f"int8 agreement {v.top1_agreement:.3f} is below 98%")
    return rows


def main() -> int:
    work = REPO / ".state" / "demo"
    work.mkdir(parents=True, exist_ok=True)
    from tinyml_lsp.errors import TinymlError

    try:
        rows = asyncio.run(lifecycle(work))
    except TinymlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    width = max(len(r[1]) for r in rows)
    print("\nSummary")
    print(f"{'step':<20} {'result':<{width}}  time")
    print(f"{'-' * 20} {'-' * width}  -------")
    for name, result, seconds in rows:
        print(f"{name:<20} {result:<{width}}  {seconds}")
    print("\nThe emulated board (build, flash, monitor under QEMU) comes with the standalone "
          "C runtime: see the README's roadmap.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
