"""Compile generated C for this machine and run it in a child process (never in-process).

The harness (snippets/standalone/host_main.c) reads samples on stdin and writes outputs on
stdout, so a crash or a hang of generated code is a failed child process with a timeout,
not a crashed server.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml_lsp.codegen.standalone.emit import GeneratedModel
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.resources import data_dir
from tinyml_lsp.runtime.process import find_tool, run_tool

HOST_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")
COMPILE_TIMEOUT = 300.0


@dataclass(frozen=True)
class HostRun:
    outputs: np.ndarray  # one row per sample: all outputs of the sample, concatenated
    ns_per_invoke: float | None  # mean time of model_invoke_all() on this machine


def compiler() -> str:
    """$CC, else gcc."""
    return find_tool(os.environ.get("CC") or "gcc",
                     what="a C compiler (gcc) to build the generated code for this machine")


async def build_host(gen: GeneratedModel, workdir: str | Path, *,
                     extra_flags: tuple[str, ...] = ()) -> Path:
    """Write model.h/model.c and the harness to workdir and compile them with gcc."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "model.h").write_text(gen.header)
    (work / "model.c").write_text(gen.source)
    shutil.copy(data_dir("snippets") / "standalone" / "host_main.c", work / "host_main.c")
    exe = work / "model_host"
    await run_tool([compiler(), *HOST_CFLAGS, *extra_flags, "-o", exe, "model.c",
                    "host_main.c"], "the host C compiler", timeout=COMPILE_TIMEOUT, cwd=work)
    return exe


def _sample_bytes(gen: GeneratedModel, inputs: list[np.ndarray]) -> bytes:
    """Interleave the inputs sample by sample as the harness reads them."""
    count = len(inputs[0])
    chunks = []
    for s in range(count):
        for i, spec in enumerate(gen.inputs):
            dtype = np.float32 if (i == 0 and spec.is_float) else np.int8
            chunks.append(np.ascontiguousarray(inputs[i][s], dtype=dtype).reshape(-1).tobytes())
    return b"".join(chunks)


async def run_host(gen: GeneratedModel, exe: str | Path, inputs: np.ndarray | list[np.ndarray],
                   *, repeat: int = 1, timeout: float = 600.0) -> HostRun:
    """Run the compiled model on samples (input 0 as an array, or one array per input);
    each sample is run `repeat` times for the timing."""
    arrays = inputs if isinstance(inputs, list) else [inputs]
    if len(arrays) != len(gen.inputs):
        raise TinymlError(f"the model has {len(gen.inputs)} inputs, {len(arrays)} were given")
    count = len(arrays[0])
    for spec, arr in zip(gen.inputs, arrays, strict=True):
        if arr.reshape(count, -1).shape[1] != spec.size:
            raise TinymlError(f"input {spec.name!r} needs {spec.size} values per sample, "
                              f"got {arr.reshape(count, -1).shape[1]}")
    run = await run_tool([exe, str(count), str(repeat)], "the generated model (host)",
                         timeout=timeout, stdin=_sample_bytes(gen, arrays))
    out, err = run.stdout, run.stderr
    raw = np.frombuffer(out, dtype=np.uint8)
    pos = 0
    rows = []
    for _ in range(count):
        parts = []
        for i, spec in enumerate(gen.outputs):
            if i == 0 and spec.is_float:
                n = spec.size * 4
                parts.append(raw[pos:pos + n].view(np.float32).astype(np.float64))
            else:
                n = spec.size
                parts.append(raw[pos:pos + n].view(np.int8).astype(np.float64))
            pos += n
        rows.append(np.concatenate(parts))
    if pos != raw.size:
        raise TinymlError(f"the generated model wrote {raw.size} bytes, expected {pos}")
    match = re.search(r"ns_per_invoke ([0-9.]+)", err.decode(errors="replace"))
    outputs = np.stack(rows) if rows else np.zeros((0, 0))
    if not any(s.is_float for s in gen.outputs[:1]):
        outputs = outputs.astype(np.int8)
    else:
        outputs = outputs.astype(np.float32)
    return HostRun(outputs, float(match.group(1)) if match else None)
