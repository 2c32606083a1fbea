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
    LineEvent,
    MonitorEvent,
    Ready,
)
from tinyml_lsp.deploy.platformio import UploadResult, upload
from tinyml_lsp.deploy.session import watch
from tinyml_lsp.deploy.sketch import plan_sketch, write_sketch
from tinyml_lsp.deploy.verdict import Verdict, render_verdict
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext, NullContext, Stage


class RunFailed(TinymlError):
    """The firmware did not complete its run; `lines` holds what the board printed."""

    def __init__(self, message: str, project: str | Path, lines: tuple[str, ...],
                 hint: str | None = None) -> None:
        super().__init__(message, project, hint)
        self.lines = lines


@dataclass(frozen=True)
class BoardRun:
    upload: UploadResult
    ready: Ready | None
    inferences: tuple[Inference, ...]
    verdict: Verdict | None  # when the project says what the host expects
    lines: tuple[str, ...] = ()  # every line the board printed, in order

    def to_json(self) -> dict[str, Any]:
        return {"upload": self.upload.to_json(), "lines": list(self.lines),
                "ready": self.ready.to_json() if self.ready else None,
                "inferences": [i.to_json() for i in self.inferences],
                "verdict": self.verdict.to_json() if self.verdict else None}


async def flash_and_read(project: str | Path, ctx: JobContext, *, env: str | None = None,
                         timeout: float | None = None) -> BoardRun:
    """Upload the project's environment `env` (build if needed), then read the board until the
    end of its run (within `timeout`, else the bound the project's test vectors give): the one
    validation target of a firmware project (a failed build raises `BuildFailed` with its
    diagnostics, a board that stops early `RunFailed` with the lines it printed)."""
    uploaded = await upload(project, Stage(ctx, 0.0, 0.5), env=env)
    ctx.progress(0.5, "reading the board's serial output")
    events: list[MonitorEvent] = []

    def printed() -> tuple[str, ...]:
        return tuple(e.line for e in events if isinstance(e, LineEvent))

    try:
        summary = await watch(project, ctx, timeout=timeout, on_event=events.append)
    except TinymlError as exc:  # a run that does not end in time
        raise RunFailed(exc.message, project, printed(), exc.hint) from None
    if not summary.ok and summary.end and summary.end.startswith("the firmware stopped"):
        raise RunFailed(summary.end, project, printed())
    for e in events:
        if isinstance(e, BoardError):
            raise RunFailed(f"the board stopped: {e.message}", project, printed())
        if isinstance(e, Disconnected):
            raise RunFailed(f"the board stopped: {e.reason}", project, printed())
    if not any(isinstance(e, Done) for e in events):
        raise RunFailed("the board's run ended without TINYML DONE", project, printed())
    ready = next((e for e in events if isinstance(e, Ready)), None)
    inferences = tuple(e for e in events if isinstance(e, Inference))
    ctx.progress(1.0, f"{len(inferences)} inferences read back")
    return BoardRun(uploaded, ready, inferences, summary.verdict, printed())


def render_board_run(r: BoardRun) -> str:
    lines = [f"flashed {Path(r.upload.elf or '').name} and read {len(r.inferences)} "
             "inferences back"]
    lines += [f"  {i.seq:>3}  {i.summary():<24} {i.instructions:>12,} instructions"
              for i in r.inferences[:20]]
    if len(r.inferences) > 20:
        lines.append(f"  … and {len(r.inferences) - 20} more")
    if r.verdict is not None:
        lines.append(render_verdict(r.verdict))
    return "\n".join(lines)


@dataclass(frozen=True)
class EmulatorRun:
    outputs: np.ndarray  # int8, one row per input (output 0)
    instructions: tuple[int, ...]  # per model_invoke(), ±40 (one tick of the 25 MHz timer)


async def run_on_emulator(gen: GeneratedModel, inputs: np.ndarray, workdir: str | Path, *,
                          cflags: tuple[str, ...] = (), timeout: float | None = None
                          ) -> EmulatorRun:
    """A sketch project of the model (generated as `gen` was) with `inputs` as test vectors,
    built by PlatformIO, flashed to the emulated board and read back by the serial monitor."""
    if gen.inputs[0].is_float or len(gen.inputs) != 1:
        raise TinymlError("the emulated board feeds one int8 input", gen.model)
    project = Path(workdir)
    write_sketch(await plan_sketch(gen.model, project, NullContext(), inputs=inputs,
                                   build_flags=" ".join(cflags), weights_budget=gen.flash_budget))
    try:
        run = await flash_and_read(project, NullContext(), timeout=timeout)
    finally:
        emulator.stop(project)
    return EmulatorRun(np.array([i.output for i in run.inferences], dtype=np.int8),
                       tuple(i.instructions for i in run.inferences))
