"""The generated C on a Cortex-M4F: flash and RAM from the ARM compiler, instructions per
inference on QEMU's mps2-an386.

Sizes come from `arm-none-eabi-gcc -Os` (the flags a PlatformIO Cortex-M4F build uses) and
`arm-none-eabi-size`; the stack estimate from GCC's own call graph with stack usage
(-fcallgraph-info=su). Instructions are counted by the firmware of a sketch project, built by
PlatformIO and flashed to the emulated board (QEMU with `-icount shift=0`: one instruction per
nanosecond of virtual time, read with the board's 25 MHz timer), so a count is exact to 40
instructions and the same run to run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate
from tinyml_lsp.codegen.standalone.host import _run
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.jobs import JobContext
from tinyml_lsp.model.micro import measure_arena

ARM_GCC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
ARM_NM = "arm-none-eabi-nm"
CPU_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
ARM_CFLAGS = ("-std=c99", "-Os", "-ffunction-sections", "-fdata-sections", "-Wall",
              "-Wextra", "-Wno-unused-function", *CPU_FLAGS)
APT_HINT = "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise TinymlError(f"{name} is not installed", hint=APT_HINT)
    return path


@dataclass(frozen=True)
class SizeReport:
    model: str
    arena_bytes: int  # the static activation arena (.bss)
    stack_bytes: int  # deepest call chain below model_invoke(), from GCC's stack usage
    code_bytes: int  # flash: machine code (.text), without the weights
    const_bytes: int  # flash: weights, biases, multipliers, op parameters (.rodata)
    data_bytes: int  # initialised RAM (.data), normally 0
    undefined: tuple[str, ...]  # symbols the object needs from elsewhere (libc, libgcc)
    tflm_arena_bytes: int | None = None
    tflm_arena_head_bytes: int | None = None  # TFLite Micro's activations alone

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.stack_bytes + self.data_bytes

    @property
    def flash_bytes(self) -> int:
        return self.code_bytes + self.const_bytes + self.data_bytes

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ram_bytes=self.ram_bytes, flash_bytes=self.flash_bytes)
        return data


def _sections(size_output: str) -> dict[str, int]:
    """`arm-none-eabi-size -A` output as {section: bytes}."""
    sections = {}
    for line in size_output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    return sections


def max_stack(callgraph: str, root: str = "model_invoke") -> int:
    """The deepest stack below `root` in a GCC -fcallgraph-info=su file (VCG format)."""
    usage: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for m in re.finditer(r'node: \{ title: "([^"]+)" label: "[^"]*\\n(\d+) bytes', callgraph):
        usage[m.group(1)] = int(m.group(2))
    for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', callgraph):
        calls.setdefault(m.group(1), set()).add(m.group(2))
    memo: dict[str, int] = {}

    def depth(fn: str, seen: frozenset[str]) -> int:
        if fn in memo:
            return memo[fn]
        if fn in seen:  # recursion does not happen in generated code; do not loop
            return 0
        below = max((depth(c, seen | {fn}) for c in calls.get(fn, ())), default=0)
        memo[fn] = usage.get(fn, 0) + below
        return memo[fn]

    return depth(root, frozenset())


async def build_object(gen: GeneratedModel, workdir: str | Path) -> Path:
    """Compile model.c for the Cortex-M4F (object, stack usage and call graph)."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "model.h").write_text(gen.header)
    (work / "model.c").write_text(gen.source)
    await _run([_tool(ARM_GCC), *ARM_CFLAGS, "-fstack-usage", "-fcallgraph-info=su", "-c",
                "model.c", "-o", "model.o"], "the ARM C compiler", 600, cwd=work)
    return work / "model.o"


async def measure_sizes(model: str | Path | GeneratedModel, ctx: JobContext | None = None, *,
                        tflm: bool = True) -> SizeReport:
    """Flash and RAM of the generated C on a Cortex-M4F, next to TFLite Micro's arena."""
    gen = model if isinstance(model, GeneratedModel) else generate(model)
    with tempfile.TemporaryDirectory(prefix="tinyml-size-") as tmp:
        obj = await build_object(gen, tmp)
        out, _ = await _run([_tool(ARM_SIZE), "-A", str(obj)], "arm-none-eabi-size", 60)
        nm, _ = await _run([_tool(ARM_NM), "-u", str(obj)], "arm-none-eabi-nm", 60)
        callgraph = Path(tmp, "model.ci").read_text() if Path(tmp, "model.ci").exists() else ""
    sections = _sections(out.decode())
    text = sum(v for k, v in sections.items() if k.startswith(".text"))
    rodata = sum(v for k, v in sections.items() if k.startswith(".rodata"))
    data = sum(v for k, v in sections.items() if k.startswith(".data"))
    undefined = tuple(line.split()[-1] for line in nm.decode().splitlines() if line.strip())
    head = total = None
    if tflm:
        from tinyml_lsp.jobs import SilentContext

        arena = await measure_arena(gen.model, ctx or SilentContext())
        total, head = arena.arena_bytes, arena.head_bytes
    return SizeReport(gen.model, gen.arena_bytes, max_stack(callgraph), text, rodata, data,
                      undefined, total, head)


def render_sizes(r: SizeReport) -> str:
    tflm = ""
    if r.tflm_arena_bytes:
        tflm = (f"  (TFLite Micro arena {r.tflm_arena_bytes:,} bytes"
                + (f", activations {r.tflm_arena_head_bytes:,}" if r.tflm_arena_head_bytes
                   else "") + f"; ratio {r.arena_bytes / r.tflm_arena_bytes:.2f})")
    return "\n".join([
        f"RAM   {r.ram_bytes:,} bytes = arena {r.arena_bytes:,} + stack ≈{r.stack_bytes:,}"
        + (f" + data {r.data_bytes:,}" if r.data_bytes else "") + tflm,
        f"flash {r.flash_bytes:,} bytes = code {r.code_bytes:,} + weights and constants "
        f"{r.const_bytes:,}" + (f" + data {r.data_bytes:,}" if r.data_bytes else ""),
    ])


# --- instructions per inference on the emulated Cortex-M4F ------------------------------


@dataclass(frozen=True)
class EmulatorRun:
    outputs: np.ndarray  # int8, one row per input (output 0)
    instructions: tuple[int, ...]  # per model_invoke(), ±40 (one tick of the 25 MHz timer)


async def run_on_emulator(gen: GeneratedModel, inputs: np.ndarray, workdir: str | Path, *,
                          cflags: tuple[str, ...] = (), timeout: float = 600) -> EmulatorRun:
    """The product's own path: a sketch project of the model with `inputs` as test vectors,
    built by PlatformIO, flashed to the emulated board, read back by the serial monitor."""
    from tinyml_lsp.codegen.standalone.sketch import plan_sketch, write_sketch
    from tinyml_lsp.deploy import emulator
    from tinyml_lsp.deploy.board_run import flash_and_read
    from tinyml_lsp.jobs import SilentContext

    if gen.inputs[0].is_float or len(gen.inputs) != 1:
        raise TinymlError("the emulated board feeds one int8 input", gen.model)
    project = Path(workdir)
    write_sketch(plan_sketch(gen.model, project, inputs=inputs, build_flags=" ".join(cflags)))
    try:
        run = await flash_and_read(project, SilentContext(), timeout=timeout)
    finally:
        emulator.stop(project)
    return EmulatorRun(np.array([i.output for i in run.inferences], dtype=np.int8),
                       tuple(i.instructions for i in run.inferences))
