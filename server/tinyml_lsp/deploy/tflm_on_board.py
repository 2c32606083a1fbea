"""TensorFlow Lite Micro measured on the emulated board: the model's TFLite Micro sketch
(`tinyml sketch --runtime tflm`), its `emulated` env built, flashed and read back.

What a run gives, next to the standalone runtime's figures (benchmarks/bench_standalone.py):
instructions per inference (exact: QEMU -icount), flash (the whole firmware — TFLite Micro with
the pinned library's CMSIS-NN kernels, the Arduino core, the sketch — with and without the
model's flatbuffer), RAM (the arena the interpreter really used, `arena_used_bytes()`, and the
stack's high-water mark the sketch measures on the emulated board), and the on-board verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.deploy import emulator, third_party
from tinyml_lsp.deploy.arduino_ini import EMULATED_ENV, NANO33BLE
from tinyml_lsp.deploy.board_run import BoardRun, flash_and_read
from tinyml_lsp.deploy.monitor import STACK_LINE
from tinyml_lsp.deploy.sketch import plan_sketch, write_sketch
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.runtime.process import find_tool, run_tool

MODEL_SYMBOL = "g_model"  # the flatbuffer in flash (model_data.cc)
KERNELS = Path("src/tensorflow/lite/micro/kernels")


@dataclass(frozen=True)
class TflmOnBoard:
    model: str
    project: str
    instructions: tuple[int, ...]  # per inference, one per test vector
    flash_bytes: int  # the firmware: code, constants, initialised data
    model_bytes: int  # of which the model's flatbuffer
    arena_bytes: int  # arena_used_bytes() on the board
    arena_reserved: int  # the sketch's tensor arena (kTinymlArenaSize)
    stack_bytes: int  # the stack's high-water mark during the run
    outputs_equal: bool  # every output element equals the host interpreter's

    @property
    def code_bytes(self) -> int:
        """Flash without the model: TFLite Micro, its kernels, the core and the sketch."""
        return self.flash_bytes - self.model_bytes

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.stack_bytes

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "code_bytes": self.code_bytes, "ram_bytes": self.ram_bytes}


async def tflm_on_board(model: str | Path, workdir: str | Path, ctx: JobContext, *,
                        inputs: np.ndarray | None = None, vectors: int = 2,
                        timeout: float | None = None) -> TflmOnBoard:
    """Write the model's TFLite Micro sketch (for the Nano 33 BLE Sense) in `workdir`, run its
    `emulated` env on `inputs` (int8, one row per vector; else `vectors` random ones) and
    measure it. Outputs that differ from the host's are reported in `outputs_equal`."""
    project = Path(workdir)
    sketch = write_sketch(await plan_sketch(model, project, Stage(ctx, 0.0, 0.2),
                                            board=NANO33BLE, runtime="tflm", inputs=inputs,
                                            vectors=vectors))
    try:
        run = await flash_and_read(project, Stage(ctx, 0.2, 1.0), env=EMULATED_ENV,
                                   timeout=timeout)
    finally:
        emulator.stop(project)
    build = run.upload.build
    if build.flash_used is None or run.upload.elf is None or run.ready is None:
        raise TinymlError("the emulated build reported no firmware size", project)
    return TflmOnBoard(str(model), str(project), tuple(i.instructions for i in run.inferences),
                       build.flash_used, await symbol_size(run.upload.elf, MODEL_SYMBOL),
                       run.ready.arena, sketch.arena_bytes, stack_used(run, project),
                       run.verdict is not None and run.verdict.ok)


def stack_used(run: BoardRun, project: Path) -> int:
    line = next((x for x in run.lines if x.startswith(STACK_LINE)), None)
    if line is None:
        raise TinymlError(f"the sketch printed no `{STACK_LINE}N` line (src/main.cpp as "
                          "`tinyml sketch` writes it prints one on the emulated board)", project)
    return int(line[len(STACK_LINE):])


async def symbol_size(elf: str | Path, symbol: str) -> int:
    out = await run_tool([find_tool("arm-none-eabi-nm"), "-S", elf], "arm-none-eabi-nm",
                         timeout=60)
    for line in out.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == symbol:
            return int(parts[1], 16)
    raise TinymlError(f"no symbol {symbol} in the firmware", elf)


def reference_kernels_missing() -> list[str]:
    """Kernels the pinned TFLite Micro library ships in a CMSIS-NN version only (no reference
    source beside it), so a reference-kernel build cannot be made from it: their names."""
    kernels = third_party.require(third_party.TFLITE_MICRO) / KERNELS
    return sorted(p.stem for p in (kernels / "cmsis_nn").glob("*.cpp")
                  if not (kernels / p.name).exists())
