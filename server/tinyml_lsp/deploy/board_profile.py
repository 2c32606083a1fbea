"""Instructions per layer on the emulated Cortex-M4: a profiling build of the standalone
firmware (snippets/standalone/main_profile.c, model.c with -DTM_PROFILE) reads the timer after
every kernel call. Next to each layer: its multiply-accumulates and its SMLAD floor (MACs ÷ 2,
the DSP extension's two 16-bit MACs per instruction, which no kernel crosses), so the layers
worth optimising are those with the largest excess over their floor.

`profile_on_emulator` is the core of `tinyml analyze --on-board`; `make bench` prints the top
layers of each benchmark model.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.analyze import AnalyzeReport, analyze_model
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.board_run import flash_and_read
from tinyml_lsp.deploy.sketch import SketchFile, plan_sketch, write_sketch
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext, NullContext, Stage

PROFILE_FLAG = "-DTM_PROFILE"
_STEP = re.compile(r"PROFILE seq=(\d+) step=(\d+) instructions=(\d+)")
_TOTAL = re.compile(r"PROFILE seq=(\d+) total=(\d+)")


@dataclass(frozen=True)
class LayerCost:
    step: int  # kernel call of model_invoke(), in order
    op: str
    op_index: int  # the model's op this kernel call computes
    macs: int
    instructions: int  # to within 40 (one tick of the board's timer)

    @property
    def floor(self) -> int:
        """The SMLAD floor: MACs ÷ 2 instructions."""
        return (self.macs + 1) // 2

    @property
    def excess(self) -> int:
        return self.instructions - self.floor

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "floor": self.floor, "excess": self.excess}


@dataclass(frozen=True)
class LayerProfile:
    model: str
    layers: tuple[LayerCost, ...]
    instructions: int  # the whole model_invoke() (input and output copies included)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def top(self, count: int) -> tuple[LayerCost, ...]:
        """The layers furthest above their SMLAD floor."""
        return tuple(sorted(self.layers, key=lambda layer: -layer.excess)[:count])

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "instructions": self.instructions, "macs": self.macs,
                "floor": (self.macs + 1) // 2, "layers": [c.to_json() for c in self.layers]}


def parse_profile(lines: tuple[str, ...] | list[str], ops: tuple[str, ...],
                  macs: tuple[int, ...], model: str = "",
                  op_indices: tuple[int, ...] = ()) -> LayerProfile:
    """The profiling firmware's PROFILE lines of its first test vector as a LayerProfile."""
    steps: dict[int, int] = {}
    total = None
    for line in lines:
        if (m := _STEP.search(line)) and m.group(1) == "0":
            steps[int(m.group(2))] = int(m.group(3))
        elif (m := _TOTAL.search(line)) and m.group(1) == "0":
            total = int(m.group(2))
    if total is None or sorted(steps) != list(range(len(ops))):
        raise TinymlError(f"the profiling firmware reported {len(steps)} of {len(ops)} layers"
                          + ("" if total is not None else " and no total"), model)
    indices = op_indices or tuple(range(len(ops)))
    return LayerProfile(model, tuple(LayerCost(k, ops[k], indices[k], macs[k], steps[k])
                                     for k in range(len(ops))), total)


async def profile_on_emulator(model: str | Path, workdir: str | Path,
                              ctx: JobContext | None = None, *,
                              inputs: np.ndarray | None = None, cflags: tuple[str, ...] = (),
                              timeout: float = 600,
                              weights_budget: float | None = None) -> LayerProfile:
    """Build the profiling firmware of a model in `workdir`, run it once on the emulated board
    (on `inputs[0]`, or a zero input) and return the instructions of each layer."""
    ctx = ctx or NullContext()
    gen = generate(model, flash_budget=weights_budget)
    if gen.inputs[0].is_float or len(gen.inputs) != 1:
        raise TinymlError("the profiling firmware feeds one int8 input", model)
    x = np.zeros((1, gen.inputs[0].size), np.int8) if inputs is None else inputs[:1]
    project = Path(workdir)
    plan = await plan_sketch(model, project, Stage(ctx, 0.0, 0.2), inputs=x,
                             build_flags=" ".join((PROFILE_FLAG, *cflags)),
                             weights_budget=weights_budget)
    main = snippet("standalone/main_profile.c")
    write_sketch(replace(plan, files=tuple(
        SketchFile(f.path, main, False) if f.path == "src/main.c" else f for f in plan.files)))
    try:
        run = await flash_and_read(project, Stage(ctx, 0.2, 1.0), timeout=timeout)
    finally:
        emulator.stop(project)
    return parse_profile(run.lines, gen.ops, gen.macs, str(model), gen.op_indices)


async def analyze_on_board(model: str | Path, ctx: JobContext, *,
                           weights_budget: float | None = None,
                           **options: Any) -> AnalyzeReport:
    """`tinyml analyze --on-board`: the per-layer analysis (`options` are analyze_model's)
    with each layer's instructions measured on the emulated board (the firmware's weights
    within `weights_budget`, as `tinyml sketch` would write them)."""
    report = await analyze_model(model, Stage(ctx, 0.0, 0.3), **options)
    with tempfile.TemporaryDirectory(prefix="tinyml-profile-") as workdir:
        profile = await profile_on_emulator(model, workdir, Stage(ctx, 0.3, 1.0),
                                            weights_budget=weights_budget)
    return with_instructions(report, profile)


def with_instructions(report: AnalyzeReport, profile: LayerProfile) -> AnalyzeReport:
    """The analysis with each layer's measured instructions (summed when one op takes several
    kernel calls; none for the ops the runtime folds away, e.g. a RESHAPE)."""
    per_op: dict[int, int] = {}
    for cost in profile.layers:
        per_op[cost.op_index] = per_op.get(cost.op_index, 0) + cost.instructions
    layers = tuple(replace(layer, instructions=per_op.get(layer.index))
                   for layer in report.layers)
    floor = (profile.macs + 1) // 2
    note = (f"on the emulated Cortex-M4 (QEMU -icount): {profile.instructions:,} instructions "
            f"per inference, {profile.instructions / max(floor, 1):.2f}× the SMLAD floor of "
            f"{floor:,} (MACs ÷ 2); the layers furthest above their floor: "
            + ", ".join(f"#{c.op_index} {c.op} +{c.excess:,}" for c in profile.top(3)))
    return replace(report, layers=layers, notes=(*report.notes, note))


def render_profile(p: LayerProfile, top: int | None = None) -> str:
    """A table of the layers (all, or the `top` furthest above their floor)."""
    layers = p.top(top) if top else p.layers
    lines = [f"{'step':>4}  {'op':<20}{'MACs':>11}{'floor':>11}{'instructions':>14}"
             f"{'excess':>12}{'÷ floor':>9}"]
    for c in layers:
        ratio = f"{c.instructions / c.floor:.2f}" if c.floor else "-"
        lines.append(f"{c.step:>4}  {c.op:<20}{c.macs:>11,}{c.floor:>11,}"
                     f"{c.instructions:>14,}{c.excess:>12,}{ratio:>9}")
    floor = (p.macs + 1) // 2
    lines.append(f"{'':>4}  {'total':<20}{p.macs:>11,}{floor:>11,}{p.instructions:>14,}"
                 f"{p.instructions - floor:>12,}")
    return "\n".join(lines)
