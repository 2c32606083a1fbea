"""Quantize a Keras model: float32 and full-integer int8 .tflite files, plus a report.

TensorFlow runs in `convert_worker`; this module is the task's core (one function, two faces).
The int8 result is then checked with TFLite Micro's own interpreter (arena, missing ops).
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tinyml_lsp import artifacts
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.inspect import ModelCard, inspect_model
from tinyml_lsp.model.labels import write_labels
from tinyml_lsp.model.messages import ConvertRequest, ConvertResult
from tinyml_lsp.model.micro import ArenaReport, measure_arena
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.runtime.staging import Staging
from tinyml_lsp.runtime.worker import run_worker

WORKER = "tinyml_lsp.model.convert_worker"
MODES = ("int8", "float32", "dynamic", "float16")
IO_TYPES = ("int8", "float")
TARGETS = ("mcu", "host")
DEFAULT_SAMPLES = 300  # representative samples for calibration
DEFAULT_HOLDOUT = 0.2  # of labelled data, kept out of calibration to measure on

REFUSED_ON_MCU = {
    "dynamic": (
        "dynamic-range quantization makes a hybrid model (int8 weights, float activations) "
        "and TFLite Micro refuses hybrid models",
        "use full-integer int8 (the default) with a representative dataset, or --target host "
        "for a model that runs on a CPU with TFLite",
    ),
    "float16": (
        "float16 quantization keeps float activations and TFLite Micro has no float16 kernels",
        "use full-integer int8 (the default), or --target host",
    ),
}


@dataclass(frozen=True)
class Comparison:
    """How the quantized model's top-1 compares with the float model's, on the given data."""

    samples: int
    held_out: bool  # measured on rows kept out of calibration (else on the calibration data)
    top1_agreement: float
    max_abs_error: float  # in the output's real units (probabilities for a softmax)
    accuracy: float | None = None  # quantized model vs labels
    float_accuracy: float | None = None


@dataclass(frozen=True)
class QuantizeResult:
    model: str
    files: dict[str, str]  # mode → .tflite path
    report: str  # markdown report path
    io: str
    cards: dict[str, ModelCard] = field(default_factory=dict)
    comparison: Comparison | None = None
    arena: ArenaReport | None = None  # TFLite Micro, for the int8 model
    classes: tuple[str, ...] | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cards"] = {k: v.to_json() for k, v in self.cards.items()}
        return data


def check_keras_file(path: Path) -> None:
    """Refuse what is plainly not a Keras model before paying for TensorFlow's import."""
    suffix = path.suffix.lower()
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise TinymlError("this folder is not a SavedModel (no saved_model.pb)", path)
        return
    head = path.read_bytes()[:8]
    if suffix == ".keras" and not zipfile.is_zipfile(path):
        raise TinymlError("not a Keras model: a .keras file is a zip archive, this one is not",
                          path, hint="save the model with model.save('name.keras')")
    if suffix in (".h5", ".hdf5") and head != b"\x89HDF\r\n\x1a\n":
        raise TinymlError("not a Keras model: a .h5 file is an HDF5 file, this one is not", path)
    if suffix == ".tflite":
        raise TinymlError("this is already a .tflite model; quantize converts Keras models", path,
                          hint="quantize the Keras model it came from (.keras, .h5, SavedModel)")


async def quantize_model(
    model: str | Path,
    ctx: JobContext,
    *,
    data: str | Path | None = None,
    out_dir: str | Path | None = None,
    mode: str = "int8",
    io: str = "int8",
    target: str = "mcu",
    label_column: str | None = None,
    pixel_range: str = DEFAULT_PIXEL_RANGE,
    samples: int = DEFAULT_SAMPLES,
    holdout: float = DEFAULT_HOLDOUT,
    seed: int = 0,
    per_tensor_dense: bool = False,
    timeout: float = 1800,
) -> QuantizeResult:
    """Convert to float32 and `mode`; with labelled data, `holdout` of each class is kept out
    of calibration and the quantized model is compared with the float one on it."""
    model = Path(model)
    if mode not in MODES:
        raise TinymlError(f"unknown quantization mode {mode!r} (one of {', '.join(MODES)})")
    if target == "mcu" and mode in REFUSED_ON_MCU:
        why, hint = REFUSED_ON_MCU[mode]
        raise TinymlError(f"refusing {mode} quantization for a microcontroller: {why}", model,
                          hint=hint)
    if not 0 <= holdout < 1:
        raise TinymlError(f"the hold-out fraction must be in [0, 1), not {holdout}")
    if not model.exists():
        raise TinymlError("no such model file or folder", model)
    check_keras_file(model)
    if data is not None and not Path(data).exists():
        raise TinymlError("no such dataset file or folder", data)
    if mode == "int8" and data is None:
        raise TinymlError("full-integer int8 quantization needs a representative dataset", model,
                          hint="pass --data with a .npy/.npz/.csv file or an image folder")
    # the files appear only if everything succeeds: a failed or cancelled run leaves none
    with Staging(artifacts.quantize_dir(model, out_dir)) as staging:
        modes = ["float32"] if mode == "float32" else ["float32", mode]
        outputs = {m: staging.path(artifacts.quantized_model(model, m, out_dir)) for m in modes}
        request = ConvertRequest(
            model=str(model), outputs={m: str(p) for m, p in outputs.items()},
            io=io, target=target, data=str(data) if data is not None else None,
            label_column=label_column, pixel_range=pixel_range, samples=samples,
            holdout=holdout, seed=seed, per_tensor_dense=per_tensor_dense)
        r = await run_worker(WORKER, request, ConvertResult, Stage(ctx, 0.0, 0.9),
                             what="the TensorFlow converter", timeout=timeout, path=model)
        files = {m: str(staging.final(p)) for m, p in r.files.items()}
        cards = await asyncio.to_thread(lambda: {m: replace(inspect_model(p), path=str(files[m]))
                                                 for m, p in r.files.items()})
        if mode == "int8" and cards["int8"].quantization != "full-integer":
            # not what was asked for: the staged files are dropped with the error
            raise TinymlError(f"the converter did not produce a full-integer int8 model (it is "
                              f"{cards['int8'].quantization}): some ops have no int8 kernel in "
                              "TFLite", model,
                              hint="check the model's layers with `tinyml inspect` on the "
                              "float32 model; replace the ops that stay float")
        arena = None
        if mode == "int8":
            ctx.progress(0.9, "checking the int8 model with TFLite Micro")
            arena = await measure_arena(r.files["int8"], Stage(ctx, 0.9, 1.0))
        comparison = None
        if (c := r.comparisons.get(mode)) is not None:
            comparison = Comparison(samples=r.compared_samples, held_out=r.compared_held_out,
                                    top1_agreement=c.top1_agreement,
                                    max_abs_error=c.max_abs_error, accuracy=c.accuracy,
                                    float_accuracy=r.float_accuracy)
        report = artifacts.quantize_report(model, out_dir)
        result = QuantizeResult(
            model=str(model), files=files, report=str(report), io=io if mode == "int8" else "float",
            cards=cards, comparison=comparison, arena=arena, classes=r.classes, seconds=r.seconds,
        )
        await asyncio.to_thread(_write_outputs, staging.path(report), result, r.files.values())
        staging.commit()
        return result


def _write_outputs(report: Path, result: QuantizeResult, models: Iterable[str]) -> None:
    for model in models:  # every model keeps its class names beside it
        if result.classes:
            write_labels(model, result.classes)
    report.write_text(render_quantize(result) + "\n")
    report.with_suffix(".json").write_text(json.dumps(result.to_json(), indent=2) + "\n")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def render_quantize(r: QuantizeResult, *, report_path: bool = False) -> str:
    """The report (markdown); with `report_path`, followed by where the report was written."""
    lines = [f"# Quantization report: {Path(r.model).name}", "", "| model | file | bytes | ops |",
             "|---|---|---:|---|"]
    for mode, path in r.files.items():
        card = r.cards.get(mode)
        lines.append(f"| {mode} | {path} | {card.size_bytes:,} | {', '.join(card.op_names)} |"
                     if card else f"| {mode} | {path} | | |")
    if "int8" in r.cards:
        card = r.cards["int8"]
        lines += ["", f"int8 model: {card.quantization}, I/O {r.io}"]
        lines += [f"- input  {t.describe()}" for t in card.inputs]
        lines += [f"- output {t.describe()}" for t in card.outputs]
    if r.comparison:
        c = r.comparison
        where = ("held-out samples (not used for calibration)" if c.held_out
                 else "samples of the calibration data (no labels to hold out by)")
        lines += ["", f"On {c.samples} {where}: top-1 agreement with float "
                  f"{_pct(c.top1_agreement)}, max output error {c.max_abs_error:.4f}"]
        if c.accuracy is not None:
            lines.append(f"Accuracy: float {_pct(c.float_accuracy)}, quantized {_pct(c.accuracy)}")
    if r.arena:
        if r.arena.arena_bytes:
            lines += ["", f"TFLite Micro: runs; tensor arena {r.arena.arena_bytes:,} bytes "
                      "(measured on this 64-bit host: an upper bound for a 32-bit MCU)"]
        else:
            lines += ["", f"TFLite Micro: cannot run it — {r.arena.message}"]
    if report_path:
        lines += ["", f"report: {r.report}"]
    return "\n".join(lines)
