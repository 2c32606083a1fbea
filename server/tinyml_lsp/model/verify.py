"""Verify a .tflite model with TFLite Micro's interpreter: ops, arena, and, given data,
accuracy and agreement with a float reference model."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model import micro
from tinyml_lsp.model.datasets import Dataset, dequantize, load_dataset, quantize
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE, KERAS_SUFFIXES
from tinyml_lsp.model.inspect import HYBRID_REFUSAL, ModelCard, TensorCard, inspect_model
from tinyml_lsp.model.labels import model_labels
from tinyml_lsp.model.messages import PredictRequest, PredictResult
from tinyml_lsp.model.quantize import WORKER as CONVERT_WORKER
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.runtime.worker import WorkerCrashed, run_worker


@dataclass(frozen=True)
class VerifyReport:
    model: str
    quantization: str
    ops: tuple[str, ...]
    missing_ops: tuple[str, ...]  # ops TFLite Micro has no kernel for
    arena_bytes: int | None  # minimum tensor arena, measured (None: the model cannot run)
    arena_head_bytes: int | None = None
    arena_tail_bytes: int | None = None
    samples: int | None = None
    accuracy: float | None = None  # with labels
    reference: str | None = None
    reference_accuracy: float | None = None
    top1_agreement: float | None = None
    max_abs_error: float | None = None  # in output units, model vs reference
    arena_checked: int | None = None  # a user's arena size the model was run with
    arena_check: str | None = None  # what that run showed, in words

    @property
    def runs(self) -> bool:
        return self.arena_bytes is not None and not self.missing_ops

    @property
    def problem(self) -> str | None:
        """Why the model fails verification (TFLite Micro cannot run it), or None."""
        if self.quantization == "hybrid":
            return HYBRID_REFUSAL[0].upper() + HYBRID_REFUSAL[1:]
        if self.runs:
            return None
        return "TFLite Micro cannot run this model" + (
            ": no kernel for " + ", ".join(self.missing_ops) if self.missing_ops else "")

    @property
    def supported_ops(self) -> tuple[str, ...]:
        return tuple(op for op in self.ops if op not in self.missing_ops)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["runs"] = self.runs
        data["problem"] = self.problem
        data["supported_ops"] = list(self.supported_ops)
        return data


def _model_inputs(card: ModelCard, ds: Dataset) -> np.ndarray:
    t = card.inputs[0]
    if ds.quantized:
        if t.dtype != "int8":
            raise TinymlError(f"int8 pixel data needs an int8 input; the model's is {t.dtype}",
                              card.path)
        return ds.x.astype(np.int8)
    if t.dtype in ("int8", "uint8", "int16") and t.scale is not None:
        return quantize(ds.x, t.scale, t.zero_point or 0, t.dtype)
    if t.dtype != "float32":
        raise TinymlError(f"the model's input is {t.dtype} without quantization parameters; "
                          "cannot feed it float data", card.path)
    return ds.x


def _real_outputs(t: TensorCard, y: np.ndarray) -> np.ndarray:
    y = y.reshape(len(y), -1)
    if t.scale is None:
        return y.astype(np.float32)
    return dequantize(y, t.scale, t.zero_point or 0)


async def _run_on_data(card: ModelCard, ds: Dataset, arena: int, ctx: JobContext) -> np.ndarray:
    if len(card.inputs) != 1:
        raise TinymlError(f"the model has {len(card.inputs)} inputs; verify with data handles "
                          "models with one input", card.path)
    raw = await micro.run_micro(card.path, _model_inputs(card, ds), arena, ctx)
    return _real_outputs(card.outputs[0], raw)


async def _reference_outputs(reference: Path, ds: Dataset, ctx: JobContext) -> np.ndarray:
    if reference.suffix.lower() in KERAS_SUFFIXES or reference.is_dir():
        with tempfile.TemporaryDirectory(prefix="tinyml-ref-") as tmp:
            x_path, y_path = Path(tmp, "x.npy"), Path(tmp, "y.npy")
            np.save(x_path, ds.x)
            await run_worker(CONVERT_WORKER, PredictRequest(model=str(reference),
                                                            inputs=str(x_path),
                                                            outputs=str(y_path)),
                             PredictResult, ctx, what="TensorFlow", timeout=1800, path=reference)
            return np.load(y_path)
    ref_card = await asyncio.to_thread(inspect_model, reference)
    arena = await micro.measure_arena(reference, ctx)
    if arena.arena_bytes is None:
        raise TinymlError(f"the reference model cannot run: {arena.message}", reference)
    return await _run_on_data(ref_card, ds, arena.arena_bytes, ctx)


async def verify_model(
    model: str | Path,
    ctx: JobContext,
    *,
    data: str | Path | None = None,
    reference: str | Path | None = None,
    label_column: str | None = None,
    pixel_range: str = DEFAULT_PIXEL_RANGE,
    arena: int | None = None,
    labels: list[str] | None = None,
) -> VerifyReport:
    """`labels`: the model's class names, in order (default: those recorded beside it)."""
    card = await asyncio.to_thread(inspect_model, model)
    if card.quantization == "hybrid":  # the interpreter would only fail to prepare it
        report = VerifyReport(model=str(model), quantization=card.quantization,
                              ops=tuple(card.op_names), missing_ops=(), arena_bytes=None)
        if data is not None or reference is not None or arena is not None:
            raise TinymlError(report.problem or "", model)
        return report
    ctx.progress(0.0, "measuring the tensor arena with TFLite Micro")
    measured = await micro.measure_arena(model, Stage(ctx, 0.0, 0.3))
    report = VerifyReport(
        model=str(model), quantization=card.quantization, ops=tuple(card.op_names),
        missing_ops=measured.missing_ops, arena_bytes=measured.arena_bytes,
        arena_head_bytes=measured.head_bytes, arena_tail_bytes=measured.tail_bytes,
    )
    if not report.runs:
        if data is not None or reference is not None or arena is not None:
            raise TinymlError(measured.message or "TFLite Micro cannot run this model", model)
        return report
    assert measured.arena_bytes is not None
    if arena is not None:
        check = await _check_user_arena(card, arena, measured, Stage(ctx, 0.3, 0.35))
        report = replace(report, arena_checked=arena, arena_check=check)
    if data is None:
        if reference is not None:
            raise TinymlError("a reference model is compared on data: pass --data too", reference)
        return report

    ctx.progress(0.3, "reading the data")
    ds = await asyncio.to_thread(load_dataset, data, card.inputs[0].shape,
                                 label_column=label_column, pixel_range=pixel_range,
                                 classes=model_labels(model, labels))
    for note in ds.notes:
        ctx.log(note)
    ctx.progress(0.4, f"running {len(ds)} samples in TFLite Micro")
    y = await _run_on_data(card, ds, max(arena or 0, measured.arena_bytes), Stage(ctx, 0.4, 0.7))
    fields: dict[str, Any] = {"samples": len(ds)}
    if ds.y is not None:
        fields["accuracy"] = float(np.mean(y.argmax(1) == ds.y))
    if reference is not None:
        ctx.progress(0.7, f"running the reference model {Path(reference).name}")
        ref = await _reference_outputs(Path(reference), ds, Stage(ctx, 0.7, 1.0))
        ref = ref.reshape(len(ds), -1)
        if ref.shape != y.shape:
            raise TinymlError(f"the reference model's output has shape {ref.shape[1:]}, the "
                              f"model's {y.shape[1:]}: they are not the same model", reference)
        fields |= {
            "reference": str(reference),
            "top1_agreement": float(np.mean(y.argmax(1) == ref.argmax(1))),
            "max_abs_error": float(np.max(np.abs(y - ref))),
        }
        if ds.y is not None:
            fields["reference_accuracy"] = float(np.mean(ref.argmax(1) == ds.y))
    return replace(report, **fields)


async def _check_user_arena(card: ModelCard, arena: int, measured: micro.ArenaReport,
                            ctx: JobContext) -> str:
    """Run once with exactly the user's arena, and say what that shows for a 32-bit MCU.

    The host is 64-bit: TFLite Micro's persistent data (tensor structs, pointers) is smaller on
    a 32-bit MCU, so a size that fails here may still work there. Only the activations (the
    same on any MCU) are a hard lower bound. A TinymlError when the arena is surely too small.
    """
    needed, head = measured.arena_bytes or 0, measured.head_bytes or 0
    zeros = np.zeros((1, *card.inputs[0].shape[1:]), dtype=card.inputs[0].dtype)
    try:
        await micro.run_micro(card.path, zeros, arena, ctx, timeout=120)
        return "runs"
    except WorkerCrashed as exc:  # what a failure means is said below, in the user's terms
        crash = f"; the interpreter {exc.message.removeprefix(micro.WHAT + ' ')} with it"
    except TinymlError:
        crash = ""
    if arena < head:
        raise TinymlError(f"a {arena:,}-byte arena is too small: the model's activations alone "
                          f"take {head:,} bytes on any MCU (TFLite Micro needs {needed:,} bytes "
                          f"on this 64-bit host){crash}", card.path,
                          hint=f"use at least {needed:,} bytes, or measure on the board")
    return (f"does not run on this 64-bit host (TFLite Micro needs {needed:,} bytes here); on "
            f"a 32-bit MCU the model needs between {head:,} (its activations) and {needed:,} "
            f"bytes, so {arena:,} may still be enough there — confirm on the board (the "
            f"emulated board too), or use {needed:,}")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def render_verify(r: VerifyReport) -> str:
    lines = [f"model        {r.model}", f"quantization {r.quantization}"]
    lines.append("ops          " + (", ".join(r.supported_ops) or "none")
                 + "  (TFLite Micro has kernels for these)")
    if r.missing_ops:
        lines.append("missing ops  " + ", ".join(r.missing_ops)
                     + "  (TFLite Micro has no kernel for these)")
    if r.arena_bytes:
        lines.append(f"arena        {r.arena_bytes:,} bytes minimum, measured on this 64-bit "
                     "host (an upper bound for 32-bit MCUs)")
        lines.append(f"             of which activations {r.arena_head_bytes or 0:,}, persistent "
                     f"{r.arena_tail_bytes or 0:,}, the rest kernels' temporary space")
    elif r.problem:
        lines.append(f"arena        — ({r.problem})")
    if r.arena_checked:
        lines.append(f"your arena   {r.arena_checked:,} bytes: {r.arena_check}")
    if r.samples:
        lines.append(f"samples      {r.samples}")
        if r.accuracy is not None:
            lines.append(f"accuracy     {_pct(r.accuracy)}")
        if r.reference:
            lines.append(f"reference    {r.reference}"
                         + (f" (accuracy {_pct(r.reference_accuracy)})"
                            if r.reference_accuracy is not None else ""))
            lines.append(f"agreement    {_pct(r.top1_agreement)} top-1 with the reference, "
                         f"max output error {r.max_abs_error:.4f}")
    return "\n".join(lines)
