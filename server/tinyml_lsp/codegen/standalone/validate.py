"""`tinyml validate MODEL --runtime standalone`: the user's own check of the generated C.

Generate the C, build it for this machine, run it on the user's data (or N random inputs),
run TFLite Micro's interpreter on the same inputs, and compare element by element; also put
the arenas and the time per inference side by side. Everything that runs model code runs in
a child process.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate
from tinyml_lsp.codegen.standalone.host import HostRun, build_host, run_host
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import load_dataset, quantize
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.micro import WHAT, measure_arena, run_micro_all
from tinyml_lsp.runtime.context import JobContext, Stage

TARGET_SECONDS = 0.3  # host timing: repeat samples until about this much is measured
DEFAULT_RANDOM_INPUTS = 100


@dataclass(frozen=True)
class ValidateReport:
    model: str
    runtime: str
    source: str  # the data file, or "random"
    samples: int
    elements: int  # output values compared
    mismatches: int
    max_abs_diff: float  # in output units (int8 steps, or float for float outputs)
    mismatch_examples: tuple[str, ...]  # the first few mismatching elements
    arena_bytes: int  # the generated C's static arena
    tflm_arena_bytes: int | None  # TFLite Micro's measured arena (64-bit host: an upper bound)
    ns_per_invoke: float | None  # generated C on this machine
    tflm_ns_per_invoke: float | None  # TFLite Micro's Python interpreter, invoke() only
    ops: tuple[str, ...]
    undefined_behaviour: str | None = None  # what UBSan reported, when it did
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.undefined_behaviour is None

    @property
    def problem(self) -> str | None:
        """Why validation failed, or None when the generated C is bit-exact."""
        if self.undefined_behaviour is not None:
            return f"the generated C has undefined behaviour: {self.undefined_behaviour}"
        if self.mismatches == 0:
            return None
        return (f"{self.mismatches} of {self.elements} output elements differ from TFLite "
                f"Micro (max difference {self.max_abs_diff:g})")

    @property
    def arena_ratio(self) -> float | None:
        return self.arena_bytes / self.tflm_arena_bytes if self.tflm_arena_bytes else None

    @property
    def speedup(self) -> float | None:
        if self.ns_per_invoke and self.tflm_ns_per_invoke:
            return self.tflm_ns_per_invoke / self.ns_per_invoke
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ok=self.ok, problem=self.problem, arena_ratio=self.arena_ratio,
                    speedup=self.speedup)
        return data


def _inputs(gen: GeneratedModel, data: str | Path | None, random: int, seed: int,
            label_column: str | None, pixel_range: str) -> tuple[list[np.ndarray], str]:
    """One array per model input, in the dtype each side is fed (float for float inputs)."""
    if data is not None:
        if len(gen.inputs) != 1:
            raise TinymlError(f"the model has {len(gen.inputs)} inputs; --data feeds models "
                              "with one input (use --random for this one)", gen.model)
        spec = gen.inputs[0]
        ds = load_dataset(data, (1, *spec.shape[1:]) if spec.shape else None,
                          label_column=label_column, pixel_range=pixel_range)
        x = ds.x if spec.is_float else quantize(ds.x, spec.scale, spec.zero_point)
        return [x], str(data)
    if random <= 0:
        raise TinymlError("give --data DATA or --random N (N > 0) inputs to validate with")
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in gen.inputs:
        q = rng.integers(-128, 128, size=(random, *spec.shape[1:]), dtype=np.int8)
        # float inputs: values that quantize exactly back to the random int8 values
        arrays.append(((q.astype(np.float32) - spec.zero_point) * np.float32(spec.scale))
                      if spec.is_float else q)
    return arrays, "random"


SHOWN_MISMATCHES = 10


def _compare(ours: np.ndarray, ref: np.ndarray) -> tuple[int, float, tuple[str, ...]]:
    """(mismatching elements, max difference, the first few described)."""
    if ours.shape != ref.shape:
        return ref.size, float("inf"), (f"output shapes differ: {ours.shape} vs {ref.shape}",)
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    bad = np.argwhere(diff > 0)
    shown = tuple(f"sample {s}, element {i}: generated C {ours[s, i]:g}, TFLite Micro "
                  f"{ref[s, i]:g}" for s, i in bad[:SHOWN_MISMATCHES].tolist())
    return len(bad), float(diff.max()) if bad.size else 0.0, shown


async def validate(model_path: str | Path, ctx: JobContext, *, data: str | Path | None = None,
                   random: int | None = None, seed: int = 0, label_column: str | None = None,
                   pixel_range: str = DEFAULT_PIXEL_RANGE) -> ValidateReport:
    """Compare the generated C with TFLite Micro on `data`, else on `random` random inputs
    (DEFAULT_RANDOM_INPUTS when not given)."""
    ctx.progress(0.0, "generating C")
    gen = await asyncio.to_thread(generate, model_path)
    if random is None:
        random = 0 if data is not None else DEFAULT_RANDOM_INPUTS
    inputs, source = _inputs(gen, data, random, seed, label_column, pixel_range)
    count = len(inputs[0])
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tinyml-validate-") as tmp:
        ctx.progress(0.1, "compiling the generated C for this machine")
        exe = await build_host(gen, Path(tmp, "host"))
        ctx.progress(0.2, "compiling it again with the undefined-behaviour sanitizer")
        checked, undefined = await _sanitized(gen, Path(tmp, "ubsan"), inputs, notes)
        ctx.progress(0.25, f"running the generated C on {count} inputs")
        first = await run_host(gen, exe, inputs)
        repeat = 1
        if first.ns_per_invoke and first.ns_per_invoke * count < TARGET_SECONDS * 1e9:
            repeat = int(min(1000, TARGET_SECONDS * 1e9 / (first.ns_per_invoke * count))) + 1
        ours = first if repeat == 1 else await run_host(gen, exe, inputs, repeat=repeat)
        if checked is not None and not np.array_equal(checked.outputs, first.outputs):
            undefined = "its outputs change with the compiler's options"
        ctx.progress(0.4, "measuring TFLite Micro's arena")
        arena = await measure_arena(model_path, Stage(ctx, 0.4, 0.6))
        if arena.arena_bytes is None:
            raise TinymlError(f"{WHAT} cannot run this model: {arena.message}", model_path)
    ctx.progress(0.6, f"running TFLite Micro on {count} inputs")
    reference = await run_micro_all(model_path, inputs, arena.arena_bytes, Stage(ctx, 0.6, 1.0),
                                    output_count=len(gen.outputs))
    ref = reference.outputs
    mismatches, max_diff, examples = _compare(first.outputs.astype(np.float64), ref)
    ctx.progress(1.0, "compared" if not mismatches else f"{mismatches} elements differ")
    return ValidateReport(
        model=str(model_path), runtime="standalone", source=source, samples=count,
        elements=int(ref.size), mismatches=mismatches, max_abs_diff=max_diff,
        mismatch_examples=examples, arena_bytes=gen.arena_bytes,
        tflm_arena_bytes=arena.arena_bytes, ns_per_invoke=ours.ns_per_invoke,
        tflm_ns_per_invoke=reference.ns_per_invoke or None, ops=gen.ops,
        undefined_behaviour=undefined, notes=tuple(notes))


SANITIZE = ("-fsanitize=undefined", "-fno-sanitize-recover=all")


async def _sanitized(gen: GeneratedModel, workdir: Path, inputs: list[np.ndarray],
                     notes: list[str]) -> tuple[HostRun | None, str | None]:
    """Run the C built with UBSan: (its run, None), or (None, what the sanitizer reported).
    Undefined behaviour that happens to give the right answer on this machine may not on a
    Cortex-M: it fails validation like a wrong output."""
    try:
        exe = await build_host(gen, workdir, extra_flags=SANITIZE)
    except TinymlError as exc:  # no libubsan: say so, check the rest
        notes.append(f"not checked for undefined behaviour: {exc.message}")
        return None, None
    try:
        return await run_host(gen, exe, inputs), None
    except TinymlError as exc:
        report = next((line.strip() for line in (exc.hint or "").splitlines()
                       if "runtime error" in line), None)
        if report is None:
            raise
        return None, report


def _time(ns: float | None) -> str:
    if ns is None:
        return "?"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def render_validate(r: ValidateReport) -> str:
    """The human report of `tinyml validate` (the CLI prints it, --json prints to_json())."""
    verdict = "OK — bit-exact with TFLite Micro" if r.ok else f"MISMATCH — {r.problem}"
    ratio = f" ({r.arena_ratio:.2f}×)" if r.arena_ratio else ""
    speed = f" ({r.speedup:.1f}× faster)" if r.speedup and r.speedup >= 1 else \
        (f" ({1 / r.speedup:.1f}× slower)" if r.speedup else "")
    lines = [
        f"model          {r.model}",
        f"runtime        standalone C ({len(r.ops)} kernel calls)",
        f"inputs         {r.samples:,} ({r.source})",
        f"compared       {r.elements:,} output values",
        f"mismatches     {r.mismatches:,}",
        f"max difference {r.max_abs_diff:g}",
    ]
    lines += [f"  differs      {example}" for example in r.mismatch_examples]
    if r.mismatches > len(r.mismatch_examples):
        lines.append(f"  … and {r.mismatches - len(r.mismatch_examples):,} more")
    lines += [
        f"arena          {r.arena_bytes:,} bytes standalone vs "
        f"{r.tflm_arena_bytes:,} bytes TFLite Micro{ratio}" if r.tflm_arena_bytes else
        f"arena          {r.arena_bytes:,} bytes standalone",
        f"time/inference {_time(r.ns_per_invoke)} generated C vs "
        f"{_time(r.tflm_ns_per_invoke)} TFLite Micro interpreter (host){speed}",
        verdict,
    ]
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines)
