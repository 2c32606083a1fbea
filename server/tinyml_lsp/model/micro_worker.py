"""Worker: TFLite Micro's own interpreter (the `tflite-micro` package) in a child process.

The interpreter is C++ and can crash (the LSTM fixture segfaults with a tiny arena), so it only
ever runs here. Requests (`messages`):

- `ArenaRequest` → the minimum arena, by bisection, and the ops the interpreter lacks. Before
  each attempt the worker sends {"event": "probe", "size": N}, so that a parent whose worker
  died knows which size killed it and can resume above it; each missing op found is sent at
  once as {"event": "missing_op", "name": OP}.
- `RunRequest` → runs every sample (already in the inputs' dtypes), saves output 0 of each (or
  all outputs, concatenated as float64) and times invoke().
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.messages import ArenaRequest, ArenaResult, RunRequest, RunResult
from tinyml_lsp.runtime.worker import WorkerChannel, worker_main

_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'")
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_HEAD = re.compile(r"Arena allocation head (\d+) bytes")
_TAIL = re.compile(r"Arena allocation tail (\d+) bytes")
_ALLOCATION_FAILURE = ("Failed to allocate", "Failed to resize buffer", "allocate tail",
                       "Unable to allocate", "available")
MAX_ARENA = 256 * 1024 * 1024
_LIBC = ctypes.CDLL(None)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture what the C++ interpreter prints (MicroPrintf writes to the C stderr)."""
    out: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            _LIBC.fflush(None)
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode(errors="replace"))


def _interpreter(buf: bytes, arena: int) -> Any:
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(buf, arena_size=arena)


def _attempt(buf: bytes, arena: int) -> tuple[bool, str]:
    """Allocate and invoke once on zeros; (succeeded, what the interpreter printed)."""
    with captured_stderr() as printed:
        try:
            interp = _interpreter(buf, arena)
            for i in range(_input_count(interp)):
                d = interp.get_input_details(i)
                interp.set_input(np.zeros(d["shape"], dtype=d["dtype"]), i)
            interp.invoke()
            interp.print_allocations()
            ok = True
        except (RuntimeError, ValueError):
            ok = False
    return ok, printed[0]


def _input_count(interp: Any) -> int:
    n = 0
    while True:
        try:
            interp.get_input_details(n)
        except (IndexError, RuntimeError, ValueError):
            return n
        n += 1
        if n > 64:
            return n


def _swap_ops(buf: bytes, names: set[str]) -> bytes:
    """The model with the ops `names` (builtin or custom) replaced by one the interpreter has
    (ADD), to find the next gap."""
    import flatbuffers

    from tinyml_lsp.model.tflite_file import schema, text

    s = schema()
    model = s.ModelT.InitFromPackedBuf(buf, 0)
    for oc in model.operatorCodes:
        builtin = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if (oc.customCode and text(oc.customCode) in names) or any(
                getattr(s.BuiltinOperator, n, None) == builtin for n in names):
            oc.builtinCode = oc.deprecatedBuiltinCode = s.BuiltinOperator.ADD
            oc.customCode = None
    builder = flatbuffers.Builder(len(buf) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _custom_ops(buf: bytes) -> list[str]:
    from tinyml_lsp.model.tflite_file import schema, text

    model = schema().ModelT.InitFromPackedBuf(buf, 0)
    return sorted({text(oc.customCode) for oc in model.operatorCodes if oc.customCode})


def missing_ops(buf: bytes, arena: int, printed: str, channel: WorkerChannel) -> list[str]:
    """Every op of the model the interpreter has no kernel for (not just the first one).

    Custom ops all are: the interpreter here registers none (a sketch registers its own).
    Builtins are found one by one: the interpreter looks up every node's kernel before
    preparing any, so once a missing op is swapped for one it has, the next attempt names the
    next missing op. The swapped model may then crash in a kernel's Prepare: each find is sent
    at once so the parent keeps it.
    """
    missing = _custom_ops(buf)
    for name in missing:
        channel.send("missing_op", name=name)
    if missing:
        buf = _swap_ops(buf, set(missing))
        ok, printed = _attempt(buf, arena)
        if ok:
            return missing
    for _ in range(64):
        found = _MISSING_OP.search(printed)
        if not found:
            break
        missing.append(found.group(1))
        channel.send("missing_op", name=found.group(1))
        buf = _swap_ops(buf, {found.group(1)})
        ok, printed = _attempt(buf, arena)
        if ok:
            break
    return missing


def measure_arena(request: ArenaRequest, channel: WorkerChannel) -> ArenaResult:
    path = request.model
    buf = Path(path).read_bytes()
    # 1. a size that works: grow until allocation succeeds
    low = request.low  # a size the parent saw crash the interpreter
    size = max(16 * 1024, 4 * len(buf), 2 * low)
    printed = ""
    while True:
        channel.send("probe", size=size)
        ok, printed = _attempt(buf, size)
        if ok:
            break
        if not any(s in printed for s in _ALLOCATION_FAILURE):
            missing = missing_ops(buf, size, printed, channel)
            if missing:
                return ArenaResult(arena_bytes=None, missing_ops=tuple(missing))
            raise TinymlError("TFLite Micro cannot run this model: " + _last_line(printed),
                              path)
        size *= 2
        if size > MAX_ARENA:
            raise TinymlError(f"TFLite Micro could not allocate the model in {MAX_ARENA:,} bytes",
                              path)
    total = int(m.group(1)) if (m := _TOTAL.search(printed)) else size
    head = int(m.group(1)) if (m := _HEAD.search(printed)) else None
    tail = int(m.group(1)) if (m := _TAIL.search(printed)) else None
    # 2. bisect: the recorded total is a lower bound (kernels also take temporary space)
    lo = max(low, total - 1)  # the largest size known (or assumed) to be too small
    hi = size  # smallest size known to work
    channel.progress(0.1, f"arena between {lo + 1:,} and {hi:,} bytes")
    steps = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        channel.send("probe", size=mid)
        if _attempt(buf, mid)[0]:
            hi = mid
        else:
            lo = mid
        steps += 1
        channel.progress(min(0.95, 0.1 + 0.04 * steps), f"arena ≤ {hi:,} bytes")
    return ArenaResult(arena_bytes=hi, missing_ops=(), recorded_total=total, head_bytes=head,
                       tail_bytes=tail)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "the interpreter failed without a message"


def run_samples(request: RunRequest, channel: WorkerChannel) -> RunResult:
    """Run every sample; save output 0 per sample (or, with `all_outputs`, every output of
    the sample concatenated as float64) and time invoke() alone."""
    buf = Path(request.model).read_bytes()
    inputs = [np.load(p) for p in request.inputs]
    n_out = request.output_count if request.all_outputs else 1
    with captured_stderr() as printed:
        try:
            interp = _interpreter(buf, request.arena)
        except RuntimeError:
            interp = None
    if interp is None:
        raise TinymlError("TFLite Micro cannot run this model: " + _last_line(printed[0]),
                          request.model)
    details = [interp.get_input_details(i) for i in range(len(inputs))]
    outputs = []
    n = len(inputs[0])
    elapsed = 0
    for s in range(n):
        for i, d in enumerate(details):
            interp.set_input(inputs[i][s].reshape(d["shape"]).astype(d["dtype"]), i)
        start = time.perf_counter_ns()
        interp.invoke()
        elapsed += time.perf_counter_ns() - start
        if not request.all_outputs:
            outputs.append(np.array(interp.get_output(0)).reshape(-1))
        else:
            outputs.append(np.concatenate([np.array(interp.get_output(o), dtype=np.float64)
                                           .reshape(-1) for o in range(n_out)]))
        if s % 64 == 0 or s == n - 1:
            channel.progress((s + 1) / n, f"TFLite Micro: {s + 1}/{n} samples")
        interp.reset()  # state (LSTM variables) must not leak from one sample to the next
    np.save(request.outputs, np.stack(outputs))
    return RunResult(count=n, ns_per_invoke=elapsed / max(n, 1))


if __name__ == "__main__":
    raise SystemExit(worker_main({ArenaRequest: measure_arena, RunRequest: run_samples}))
