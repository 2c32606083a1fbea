"""Flash a project and read one whole run back: what the demo, the end-to-end tests and the
benchmarks do with the emulated board; and `run_on_emulator`, the generated C of a model run on
the emulated Cortex-M4F through the product's own path.

Instructions are counted by the firmware (QEMU with `-icount shift=0`: one instruction per
nanosecond of virtual time, read with the board's 25 MHz timer), so a count is exact to 40
instructions and the same run to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone.emit import GeneratedModel
from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.monitor import (
    BoardError,
    Disconnected,
    Done,
    Inference,
    Monitor,
    Ready,
    Text,
)
from tinyml_lsp.deploy.platformio import UploadResult, upload
from tinyml_lsp.deploy.sketch import plan_sketch, write_sketch
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext, NullContext, Stage


@dataclass(frozen=True)
class BoardRun:
    upload: UploadResult
    ready: Ready | None
    inferences: tuple[Inference, ...]
    texts: tuple[str, ...] = ()  # lines outside the format (e.g. a profiling firmware's)

    def to_json(self) -> dict[str, Any]:
        return {"upload": self.upload.to_json(),
                "ready": self.ready.to_json() if self.ready else None,
                "inferences": [i.to_json() for i in self.inferences],
                "texts": list(self.texts)}


async def flash_and_read(project: str | Path, ctx: JobContext, *,
                         timeout: float = 300) -> BoardRun:
    """Upload (build if needed), then read the board until `TINYML DONE`."""
    uploaded = await upload(project, Stage(ctx, 0.0, 0.5))
    ctx.progress(0.5, "reading the board's serial output")
    async with Monitor(project) as monitor:
        try:
            events = await monitor.until_done(timeout)
        except TimeoutError:
            raise TinymlError(f"the board did not finish its run within {timeout:.0f} s",
                              project) from None
    for e in events:
        if isinstance(e, BoardError):
            raise TinymlError(f"the board stopped: {e.message}", project)
        if isinstance(e, Disconnected):
            raise TinymlError(f"the board stopped: {e.reason}", project)
    if not any(isinstance(e, Done) for e in events):
        raise TinymlError("the board's run ended without TINYML DONE", project)
    ready = next((e for e in events if isinstance(e, Ready)), None)
    inferences = tuple(e for e in events if isinstance(e, Inference))
    ctx.progress(1.0, f"{len(inferences)} inferences read back")
    texts = tuple(e.line for e in events if isinstance(e, Text))
    return BoardRun(uploaded, ready, inferences, texts)


@dataclass(frozen=True)
class EmulatorRun:
    outputs: np.ndarray  # int8, one row per input (output 0)
    instructions: tuple[int, ...]  # per model_invoke(), ±40 (one tick of the 25 MHz timer)


async def run_on_emulator(gen: GeneratedModel, inputs: np.ndarray, workdir: str | Path, *,
                          cflags: tuple[str, ...] = (), timeout: float = 600) -> EmulatorRun:
    """A sketch project of the model with `inputs` as test vectors, built by PlatformIO,
    flashed to the emulated board and read back by the serial monitor."""
    if gen.inputs[0].is_float or len(gen.inputs) != 1:
        raise TinymlError("the emulated board feeds one int8 input", gen.model)
    project = Path(workdir)
    write_sketch(plan_sketch(gen.model, project, inputs=inputs, build_flags=" ".join(cflags)))
    try:
        run = await flash_and_read(project, NullContext(), timeout=timeout)
    finally:
        emulator.stop(project)
    return EmulatorRun(np.array([i.output for i in run.inferences], dtype=np.int8),
                       tuple(i.instructions for i in run.inferences))
