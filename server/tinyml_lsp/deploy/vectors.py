"""The test vectors a firmware runs, and what the host expects of them.

Vectors come from the user's data — stratified by class with a seeded shuffle, so a file
recorded class by class still tests every class — or are random. Each keeps its true label and
its sample index in the data. The host's expected outputs are TFLite Micro's interpreter's for
the same int8 inputs; the firmware project carries them (`verdict.Expected`) so the monitor can
judge the board. The vectors reach the firmware as `test_vectors.h` (docs/firmware.md §3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import numpy as np

from tinyml_lsp.deploy.verdict import Expected
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import load_dataset, pick, quantize
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.inspect import ModelCard
from tinyml_lsp.model.micro import run_micro_all
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext

DEFAULT_VECTORS = 16
MAX_VECTORS = 1024
KIND_CODES = {"class": 0, "value": 1, "anomaly": 2, "raw": 3}  # TINYML_KIND_* of the reporter
KIND_NAMES = {"class": "classifier (class, label, score)", "value": "values (regression)",
              "anomaly": "reconstruction (anomaly score: mean squared error)",
              "raw": "raw tensors"}
_WORD = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Quantization:
    """How the firmware's int8 values relate to real ones: real = scale * (q - zero_point)."""

    shape: tuple[int, ...]
    scale: float
    zero_point: int


@dataclass(frozen=True)
class TestVectors:
    inputs: np.ndarray = field(repr=False, compare=False)  # int8, one vector per row
    rows: tuple[int, ...]  # each vector's sample index in the data (-1: random)
    truths: tuple[int | None, ...]  # each vector's true class, when the data has labels
    labels: tuple[str, ...]  # class names, when known
    source: str  # the data file, or "random"
    notes: tuple[str, ...] = ()  # what was decided on the user's behalf

    def __len__(self) -> int:
        return len(self.inputs)


def given_vectors(inputs: np.ndarray, labels: tuple[str, ...] | None) -> TestVectors:
    """Test vectors the caller chose (int8, one row per vector), with no labels."""
    x = np.asarray(inputs, dtype=np.int8).reshape(len(inputs), -1)
    return TestVectors(x, (-1,) * len(x), (None,) * len(x), labels or (), "given")


def choose_vectors(model: str | Path, quant: Quantization, *, data: str | Path | None = None,
                   count: int = DEFAULT_VECTORS, seed: int = 0,
                   labels: tuple[str, ...] | None = None, label_column: str | None = None,
                   pixel_range: str = DEFAULT_PIXEL_RANGE) -> TestVectors:
    """`count` int8 inputs for the firmware: from `data`, stratified by class, or random.
    `labels` are the model's class names (they number the data's labels)."""
    if not 1 <= count <= MAX_VECTORS:
        raise TinymlError(f"the number of test vectors must be between 1 and {MAX_VECTORS}, "
                          f"not {count}")
    size = int(np.prod(quant.shape, dtype=np.int64))
    if data is None:
        rng = np.random.default_rng(seed)
        x = rng.integers(-128, 128, size=(count, size), dtype=np.int8)
        return TestVectors(x, (-1,) * count, (None,) * count, labels or (), "random")
    if len(quant.shape) > 1 and quant.shape[0] > 1:
        raise TinymlError(f"the model's input is a batch of {quant.shape[0]}: test vectors from "
                          "data feed models with a batch of 1", model,
                          hint="leave out --data for random test vectors")
    ds = load_dataset(data, quant.shape, label_column=label_column, pixel_range=pixel_range,
                      classes=labels)
    rows = pick(ds, count, seed)
    samples = ds.x[rows]
    q = samples.astype(np.int8) if ds.quantized else quantize(samples, quant.scale,
                                                                quant.zero_point)
    truths = tuple(int(ds.y[r]) for r in rows) if ds.y is not None else (None,) * len(rows)
    notes = list(ds.notes)
    if len(rows) < count:
        notes.append(f"the data has {len(ds)} samples: {len(rows)} test vectors, not {count}")
    return TestVectors(q.reshape(len(q), -1), tuple(int(r) for r in rows), truths,
                       tuple(ds.classes or labels or ()), str(data), tuple(notes))


async def expected_outputs(model: str | Path, card: ModelCard, vectors: TestVectors,
                           inputs: Quantization, outputs: list[Quantization], ctx: JobContext
                           ) -> tuple[tuple[int, ...], ...]:
    """TFLite Micro's outputs for the vectors, as the firmware's int8 values (all outputs
    concatenated). A float input is fed as the real values the int8 vector stands for; a float
    output is quantized back (the model's DEQUANTIZE is exact, so nothing is lost)."""
    x: np.ndarray = vectors.inputs.reshape(len(vectors), -1)
    if card.inputs[0].dtype == "float32":
        x = ((x.astype(np.float32) - inputs.zero_point) * np.float32(inputs.scale))
    run = await run_micro_all(model, [x], None, ctx, output_count=len(card.outputs))
    columns, start = [], 0
    for tensor, quant in zip(card.outputs, outputs, strict=True):
        y = run.outputs[:, start:start + tensor.size]
        start += tensor.size
        columns.append(quantize(y, quant.scale, quant.zero_point) if tensor.dtype == "float32"
                       else y.astype(np.int8))
    table = np.concatenate(columns, axis=1)
    return tuple(tuple(int(v) for v in row) for row in table)


def expected(card: ModelCard, kind: str, vectors: TestVectors,
             outputs: tuple[tuple[int, ...], ...]) -> Expected:
    return Expected(model=Path(card.path).name, kind=kind, labels=vectors.labels,
                    source=vectors.source, rows=vectors.rows, truths=vectors.truths,
                    outputs=outputs, macs=card.macs)


def word(text: str) -> str:
    """`text` as one word of the serial format (no spaces)."""
    return _WORD.sub("_", text) or "_"


def vectors_header(model_name: str, vectors: TestVectors, kind: str) -> str:
    """test_vectors.h (docs/firmware.md §3)."""
    names = ", ".join(f'"{word(label)}"' for label in vectors.labels)
    return Template(snippet("firmware/test_vectors.h.tmpl")).substitute(
        model_name=word(model_name), count=len(vectors), kind=KIND_CODES[kind],
        input_size=vectors.inputs.shape[1],
        rows=",\n".join("    {" + ", ".join(str(int(v)) for v in row) + "}"
                        for row in vectors.inputs),
        label_count=len(vectors.labels),
        label_table=(f"static const char *const model_labels[MODEL_LABEL_COUNT] = {{{names}}};\n"
                     if vectors.labels else ""))


def render_vectors(v: TestVectors) -> str:
    if v.source in ("random", "given"):
        line = f"{len(v)} test vectors ({v.source} int8 inputs)"
    else:
        counts: dict[str, int] = {}
        for truth in v.truths:
            if truth is not None:
                name = v.labels[truth] if truth < len(v.labels) else f"class {truth}"
                counts[name] = counts.get(name, 0) + 1
        by_class = (" — " + ", ".join(f"{n} {name}" for name, n in counts.items())) \
            if counts else ""
        shown = ", ".join(str(r) for r in v.rows[:20]) + (", …" if len(v.rows) > 20 else "")
        line = (f"{len(v)} test vectors from {v.source}{by_class}; samples (0-based) {shown}")
    return "\n".join([line, *v.notes])
