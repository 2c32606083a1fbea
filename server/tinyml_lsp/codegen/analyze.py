"""`tinyml analyze`: the model layer by layer, as `stedgeai analyze` shows it.

Per op: its kind, output shape, MACs and constant bytes (from the flatbuffer), the activation
bytes alive while it runs (from the standalone runtime's tensor lifetimes, for models it
runs), and — given a float reference model and data — how far its int8 output is from the
float model's (RMSE, in real units and in quantization steps, and cosine similarity), measured
with TensorFlow Lite in the converter's worker, as TFLite's quantization debugger does. The
layers that lose most are marked. `deploy` adds instructions per layer measured on the board.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone import planner
from tinyml_lsp.codegen.standalone.emit import build_program
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import load_dataset, pick
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.inspect import inspect_model, op_macs, op_weight_bytes
from tinyml_lsp.model.messages import LayerErrorRequest, LayerErrorResult
from tinyml_lsp.model.quantize import WORKER as CONVERT_WORKER
from tinyml_lsp.model.structure import load_model
from tinyml_lsp.model.tflite_file import text
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.runtime.worker import run_worker

DEFAULT_SAMPLES = 200  # of the data, for the per-layer errors
WORST = 3  # layers marked as losing most
LOSSY_COSINE = 0.99  # below this a layer's output has visibly drifted from the float one


@dataclass(frozen=True)
class LayerReport:
    index: int  # the op's index in the model
    op: str
    output: str  # its output tensor's name
    shape: tuple[int, ...]
    macs: int
    weight_bytes: int
    live_bytes: int | None  # activations alive while it runs (standalone runtime)
    rmse: float | None = None
    rmse_steps: float | None = None
    cosine: float | None = None
    worst: bool = False  # among the layers that lose most
    instructions: int | None = None  # measured on the board


@dataclass(frozen=True)
class AnalyzeReport:
    model: str
    layers: tuple[LayerReport, ...]
    macs: int
    weight_bytes: int
    arena_bytes: int | None  # the standalone runtime's planned arena
    reference: str | None = None
    samples: int | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _live_bytes(model: str | Path) -> tuple[dict[int, int], int | None, str | None]:
    """Activation bytes alive at each op (by op index), and the planned arena; or why not."""
    try:
        prog, plan = build_program(model)  # the kernels the generated C uses, and its arena
    except TinymlError as exc:
        return {}, None, f"activation bytes come from the standalone runtime: {exc.message}"
    buffers, _ = planner.lifetimes(prog)
    live = {step.op.index: sum(b.size for b in buffers if b.first <= k <= b.last)
            for k, step in enumerate(prog.steps)}
    return live, plan.arena_bytes, None


def layers_of(model: str | Path) -> AnalyzeReport:
    """The per-layer facts that need no data (flatbuffer and standalone planner)."""
    lm = load_model(model)
    sg = lm.model.subgraphs[0]
    tensors = sg.tensors or []
    live, arena, why = _live_bytes(model)
    layers = []
    for index, op in enumerate(sg.operators or []):
        out = tensors[int(op.outputs[0])] if op.outputs is not None and len(op.outputs) else None
        name = text(out.name) if out is not None else ""
        shape = tuple(int(d) for d in out.shape) if out is not None and out.shape is not None \
            else ()
        layers.append(LayerReport(index, lm.opcode_name(op.opcodeIndex), name, shape,
                                  op_macs(lm, tensors, op), op_weight_bytes(lm, tensors, op),
                                  live.get(index)))
    return AnalyzeReport(str(model), tuple(layers), sum(x.macs for x in layers),
                         sum(x.weight_bytes for x in layers), arena,
                         notes=(why,) if why else ())


async def analyze_model(model: str | Path, ctx: JobContext, *,
                        reference: str | Path | None = None, data: str | Path | None = None,
                        label_column: str | None = None,
                        pixel_range: str = DEFAULT_PIXEL_RANGE,
                        samples: int = DEFAULT_SAMPLES, seed: int = 0) -> AnalyzeReport:
    ctx.progress(0.0, "reading the model's layers")
    report = await asyncio.to_thread(layers_of, model)
    if reference is None and data is None:
        return report
    if reference is None or data is None:
        raise TinymlError("per-layer errors compare with a float model on data: give both "
                          "--reference and --data", model)
    ctx.progress(0.1, "reading the data")
    card = await asyncio.to_thread(inspect_model, model)
    ds = await asyncio.to_thread(load_dataset, data, card.inputs[0].shape,
                                 label_column=label_column, pixel_range=pixel_range)
    if ds.quantized:
        raise TinymlError("per-layer errors need real-valued data (not --pixel-range int8)", data)
    x = ds.x[pick(ds, samples, seed)]
    with tempfile.TemporaryDirectory(prefix="tinyml-analyze-") as tmp:
        inputs = Path(tmp, "x.npy")
        np.save(inputs, x)
        result = await run_worker(
            CONVERT_WORKER, LayerErrorRequest(str(model), str(reference), str(inputs)),
            LayerErrorResult, Stage(ctx, 0.2, 1.0), what="TensorFlow Lite", timeout=1800,
            path=model)
    return with_errors(report, result, str(reference))


def with_errors(report: AnalyzeReport, result: LayerErrorResult,
                reference: str) -> AnalyzeReport:
    by_op = {e.op_index: e for e in result.layers}
    ranked = sorted(result.layers, key=lambda e: e.cosine)
    worst = {e.op_index for e in ranked[:WORST] if e.cosine < LOSSY_COSINE}
    layers = tuple(replace(layer, rmse=e.rmse, rmse_steps=e.rmse_steps, cosine=e.cosine,
                           worst=layer.index in worst) if (e := by_op.get(layer.index)) else layer
                   for layer in report.layers)
    notes = report.notes
    if result.unmatched:
        notes += (f"{len(result.unmatched)} layers have no float counterpart to compare with "
                  f"(ops {', '.join(map(str, result.unmatched[:8]))})",)
    return replace(report, layers=layers, reference=reference, samples=result.samples,
                   notes=notes)


def render_analyze(r: AnalyzeReport) -> str:
    errors = r.reference is not None
    profile = any(layer.instructions is not None for layer in r.layers)
    head = ["#", "op", "output shape", "MACs", "weights", "live act."]
    head += ["RMSE", "steps", "cosine"] if errors else []
    head += ["instructions"] if profile else []
    rows = [head]
    for layer in r.layers:
        row = [str(layer.index), layer.op, "×".join(map(str, layer.shape)) or "scalar",
               f"{layer.macs:,}", f"{layer.weight_bytes:,}",
               f"{layer.live_bytes:,}" if layer.live_bytes is not None else "—"]
        if errors:
            row += ([f"{layer.rmse:.4g}", f"{layer.rmse_steps:.2f}", f"{layer.cosine:.4f}"]
                    if layer.cosine is not None and layer.rmse is not None and
                    layer.rmse_steps is not None else ["—", "—", "—"])
        if profile:
            row.append(f"{layer.instructions:,}" if layer.instructions is not None else "—")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"model {r.model}: {len(r.layers)} layers, {r.macs:,} MACs, {r.weight_bytes:,} "
             "bytes of weights and constants"
             + (f", standalone arena {r.arena_bytes:,} bytes" if r.arena_bytes else "")]
    if errors:
        lines.append(f"int8 layer outputs against {r.reference} on {r.samples} samples "
                     "(RMSE in real units and in quantization steps; ◀ marks the layers "
                     "that lose most)")
    lines.append("")
    for n, row in enumerate(rows):
        text = "  ".join([row[0].rjust(widths[0]), row[1].ljust(widths[1]),
                          row[2].ljust(widths[2])] + [c.rjust(w) for c, w in zip(
                              row[3:], widths[3:], strict=True)])
        lines.append(text + ("  ◀" if n and r.layers[n - 1].worst else ""))
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines)
