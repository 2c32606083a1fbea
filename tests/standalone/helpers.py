"""Shared helpers of the standalone-runtime tests: reference outputs from TFLite Micro's
interpreter (batched in one child process) and outputs of the generated C on the host."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DATA
from tinyml_lsp.codegen.standalone.emit import GeneratedModel, build_program, generate
from tinyml_lsp.codegen.standalone.host import build_host, run_host

HERE = Path(__file__).resolve().parent


def tflm_outputs(models: list[bytes], inputs: list[np.ndarray],
                 timeout: float = 600) -> list[np.ndarray | str]:
    """Output 0 of each model on its samples, or the interpreter's error text."""
    with tempfile.TemporaryDirectory(prefix="tinyml-tflm-") as tmp:
        req, res = Path(tmp, "req.npz"), Path(tmp, "res.npz")
        arrays = {}
        for i, (m, x) in enumerate(zip(models, inputs, strict=True)):
            arrays[f"model_{i}"] = np.frombuffer(m, dtype=np.uint8)
            arrays[f"input_{i}"] = x
        np.savez(req, **arrays)
        subprocess.run([sys.executable, str(HERE / "tflm_batch.py"), str(req), str(res)],
                       check=True, timeout=timeout)
        out = np.load(res)
        return [out[f"output_{i}"] if f"output_{i}" in out else str(out[f"error_{i}"])
                for i in range(len(models))]


def standalone_outputs(model: str | Path, inputs: np.ndarray, workdir: str | Path,
                       extra_flags: tuple[str, ...] = (), flash_budget: float | None = None,
                       ) -> tuple[GeneratedModel, np.ndarray]:
    """Generate C for `model` (weights within `flash_budget`), build it with gcc in workdir,
    run it on `inputs`."""
    gen = generate(model, flash_budget=flash_budget)

    async def go() -> np.ndarray:
        exe = await build_host(gen, workdir, extra_flags=extra_flags)
        return (await run_host(gen, exe, inputs)).outputs

    return gen, asyncio.run(go())


def wide_convs(model: str | Path, flash_budget: float | None = None) -> dict[str, int]:
    """How many convolutions of each kernel (tm_conv, tm_conv_lean) take int16 weights."""
    prog, _ = build_program(model, flash_budget)
    found: dict[str, int] = {}
    for s in prog.steps:
        if any(name in ("w16", "brq") for name, _ in s.fields):  # (brq: the k8 stream)
            found[s.func] = found.get(s.func, 0) + 1
    return found


def person_images() -> np.ndarray:
    """person.bmp and no_person.bmp as TFLite Micro's person_detection test feeds them: the
    raw 8-bit pixels memcpy'd into the int8 input (so 200 becomes -56, not 200 - 128)."""
    rows = []
    for name in ("person", "no_person"):
        path = DATA / f"{name}.bmp"
        if not path.exists():
            pytest.skip(f"{path} is missing")
        raw = np.frombuffer(Image.open(path).tobytes(), dtype=np.uint8)
        rows.append(raw.view(np.int8).reshape(1, 96, 96, 1))
    return np.stack(rows)


def dw3_in_place(source: str) -> tuple[int, int]:
    """How the generated C's 3×3 depthwise calls in place below their band gap run on the
    Cortex-M (as tm_depthwise in kernels/depthwise.c chooses from the call's constants): rows
    that tm_depthwise_3x3 takes alone (no band of several fits), and calls left to the
    pixel-by-pixel kernel (the output not a whole number of pixels before the input)."""
    alone = pixels = 0
    for name, i, o in re.findall(
            r"tm_depthwise\(&(op\d+)_p, \(ARENA \+ (\d+)\), \(ARENA \+ (\d+)\)\)", source):
        body = re.search(rf"tm_depthwise_t {name}_p = {{(.*?)}};", source, re.S)
        f = dict(re.findall(r"\.(\w+) = ([^,\n]+)", body.group(1) if body else ""))
        if f.get("blocked") != "2" or "padded" in f:
            continue
        n, ih, iw, c, oh, ow, sh, pt, band, band_gap = (int(f[k]) for k in (
            "batches", "in_h", "in_w", "in_c", "out_h", "out_w", "stride_h", "pad_t", "band",
            "band_gap"))
        ahead = int(i) - int(o)
        if (ahead >= n * oh * ow * c or -ahead >= n * ih * iw * c
                or (band and ahead >= band_gap) or n != 1 or c % 4 or ahead < 0):
            continue
        if ahead % c:
            pixels += 1
            continue
        ya = 0
        while ya < oh:
            yb = min(oh, (ahead + max(ya * sh - pt, 0) * iw * c) // (ow * c))
            alone += yb <= ya
            ya = max(yb, ya + 1)
    return alone, pixels
