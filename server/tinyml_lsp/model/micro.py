"""TFLite Micro's interpreter as a service of the core: arena size, missing ops, raw runs.

Everything runs in `micro_worker` child processes; a crash of the interpreter becomes a
TinymlError (or, while bisecting the arena, a size known to be too small).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.messages import ArenaRequest, ArenaResult, RunRequest, RunResult
from tinyml_lsp.runtime.context import JobContext
from tinyml_lsp.runtime.worker import WorkerCrashed, run_worker

if TYPE_CHECKING:  # numpy is imported when a model runs, not when the server starts
    import numpy as np


# The arena: the host's measure (a 64-bit upper bound) plus a tenth, at least 512 bytes, for
# allocator differences between the host interpreter's release and the pinned library.
ARENA_MARGIN_FRACTION = 0.10
ARENA_MARGIN_MIN = 512
ALIGN = 16


@dataclass(frozen=True)
class Arena:
    measured: int  # TFLite Micro's minimum on this 64-bit host
    margin: int

    @property
    def size(self) -> int:
        return -(-(self.measured + self.margin) // ALIGN) * ALIGN


def sketch_arena(measured: int) -> Arena:
    return Arena(measured, max(ARENA_MARGIN_MIN, int(measured * ARENA_MARGIN_FRACTION)))


WORKER = "tinyml_lsp.model.micro_worker"
WHAT = "the TFLite Micro interpreter"
_MAX_RESTARTS = 6
# for runs that only want outputs: more than any microcontroller's RAM (only touched pages cost)
AMPLE_ARENA = 64 * 1024 * 1024


@dataclass(frozen=True)
class ArenaReport:
    """The tensor arena TFLite Micro needs for a model, measured on this (64-bit) host.

    On a 32-bit microcontroller the persistent part ("tail": tensor structs, node data) holds
    4-byte pointers, so the device needs at most this much: the host figure is a safe size.
    """

    arena_bytes: int | None  # None when the interpreter cannot run the model at all
    head_bytes: int | None = None  # activations (the same on 32 bits)
    tail_bytes: int | None = None  # persistent allocations (smaller on 32 bits)
    missing_ops: tuple[str, ...] = ()
    crashes: tuple[int, ...] = ()  # arena sizes at which the interpreter crashed
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def measure_arena(model: str | Path, ctx: JobContext, timeout: float = 300) -> ArenaReport:
    """Bisect the smallest arena that allocates and invokes; survive interpreter crashes."""
    low = 0
    crashes: list[int] = []
    for _ in range(_MAX_RESTARTS):
        last_probe: list[int] = []
        missing: list[str] = []

        def on_event(event: dict[str, Any]) -> None:
            if event.get("event") == "probe":
                last_probe.append(int(event["size"]))  # noqa: B023 - read right after the run
            elif event.get("event") == "missing_op":
                missing.append(event["name"])  # noqa: B023

        try:
            r = await run_worker(WORKER, ArenaRequest(model=str(model), low=low), ArenaResult,
                                 ctx, what=WHAT, timeout=timeout, path=model,
                                 on_event=on_event)
        except WorkerCrashed as exc:
            if missing:  # it crashed in a kernel after we swapped the missing ops out
                return ArenaReport(None, missing_ops=tuple(missing),
                                   message=_missing_message(missing))
            if not last_probe:
                raise
            crashes.append(last_probe[-1])
            ctx.log(f"{exc.message} with a {last_probe[-1]:,}-byte arena; treating that size "
                    "as too small and measuring again")
            low = max(low, last_probe[-1])
            continue
        return ArenaReport(arena_bytes=r.arena_bytes, head_bytes=r.head_bytes,
                           tail_bytes=r.tail_bytes, missing_ops=r.missing_ops,
                           crashes=tuple(crashes), message=_missing_message(r.missing_ops))
    raise TinymlError(f"{WHAT} crashed {len(crashes)} times while sizing the arena", model)


def _missing_message(missing: tuple[str, ...] | list[str]) -> str:
    if not missing:
        return ""
    return ("TFLite Micro has no kernel for " + ", ".join(missing)
            + ": change the model to avoid these ops, or register a custom kernel")


@dataclass(frozen=True)
class MicroRun:
    outputs: np.ndarray  # one row per sample
    ns_per_invoke: float  # the interpreter's invoke() alone, on this host


async def run_micro_all(model: str | Path, inputs: list[np.ndarray], arena_bytes: int | None,
                        ctx: JobContext, *, output_count: int = 1,
                        timeout: float = 1800) -> MicroRun:
    """Every output of the model (concatenated per sample, as float64) for each sample;
    `inputs` holds one array per model input, samples first, in the inputs' dtypes.
    `arena_bytes` None: an arena large enough for any model a microcontroller runs."""
    return await _run(model, inputs, arena_bytes, ctx, timeout, all_outputs=True,
                      output_count=output_count)


async def run_micro(model: str | Path, inputs: np.ndarray, arena_bytes: int, ctx: JobContext,
                    timeout: float = 600) -> np.ndarray:
    """Output 0 of the model for each sample of `inputs` (given in the input's dtype)."""
    return (await _run(model, [inputs], arena_bytes, ctx, timeout)).outputs


async def _run(model: str | Path, inputs: list[np.ndarray], arena_bytes: int | None,
               ctx: JobContext, timeout: float, *, all_outputs: bool = False,
               output_count: int = 1) -> MicroRun:
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="tinyml-micro-") as tmp:
        paths = []
        for i, x in enumerate(inputs):
            paths.append(str(Path(tmp, f"in{i}.npy")))
            np.save(paths[-1], x)
        out_path = Path(tmp, "out.npy")
        request = RunRequest(model=str(model), inputs=paths, outputs=str(out_path),
                             arena=int(arena_bytes or AMPLE_ARENA), all_outputs=all_outputs,
                             output_count=output_count)
        r = await run_worker(WORKER, request, RunResult, ctx, what=WHAT, timeout=timeout,
                             path=model)
        return MicroRun(np.load(out_path), r.ns_per_invoke)
