"""The generated C on a Cortex-M4F: flash and RAM, from the ARM compiler.

Sizes come from `arm-none-eabi-gcc -Os` (the flags a PlatformIO Cortex-M4F build uses) and
`arm-none-eabi-size`; the stack estimate from GCC's own call graph with stack usage
(-fcallgraph-info=su). (Instructions per inference are counted on the emulated board:
`deploy.board_run.run_on_emulator`.)
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate
from tinyml_lsp.model.micro import measure_arena
from tinyml_lsp.runtime.context import JobContext, NullContext
from tinyml_lsp.runtime.process import find_tool, run_tool

ARM_GCC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
ARM_NM = "arm-none-eabi-nm"
CPU_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
ARM_CFLAGS = ("-std=c99", "-Os", "-ffunction-sections", "-fdata-sections", "-Wall",
              "-Wextra", *CPU_FLAGS)


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
    static_bytes: int = 0  # the rest of .bss: the kernels' argument blocks and tables

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.static_bytes + self.stack_bytes + self.data_bytes

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


def asm_frames(source: str) -> dict[str, int]:
    """Stack bytes of the assembly routines in generated C (GCC's stack usage does not see
    them): the registers each pushes on entry plus the locals it reserves."""
    frames = {}
    for m in re.finditer(r'"(\w+):\\n\\t"\s*"push\s+\{([^}]*)\}\\n\\t"\s*'
                         r'(?:"sub\s+sp, sp, #(\d+))?', source):
        regs = 0
        for item in m.group(2).split(","):
            lo, _, hi = item.strip().partition("-")
            regs += int(hi[1:]) - int(lo[1:]) + 1 if hi else 1
        frames[m.group(1)] = 4 * regs + int(m.group(3) or 0)
    return frames


def max_stack(callgraph: str, root: str = "model_invoke",
              extra: dict[str, int] | None = None) -> int:
    """The deepest stack below `root` in a GCC -fcallgraph-info=su file (VCG format), with
    `extra` bytes for functions GCC does not measure (assembly routines)."""
    usage: dict[str, int] = dict(extra or {})
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
    await run_tool([find_tool(ARM_GCC), *ARM_CFLAGS, "-fstack-usage", "-fcallgraph-info=su",
                    "-c", "model.c", "-o", "model.o"], "the ARM C compiler", timeout=600,
                   cwd=work)
    return work / "model.o"


async def measure_sizes(model: str | Path | GeneratedModel, ctx: JobContext | None = None, *,
                        tflm: bool = True, flash_budget: float | None = None) -> SizeReport:
    """Flash and RAM of the generated C on a Cortex-M4F, next to TFLite Micro's arena."""
    gen = model if isinstance(model, GeneratedModel) else generate(
        model, flash_budget=flash_budget)
    with tempfile.TemporaryDirectory(prefix="tinyml-size-") as tmp:
        obj = await build_object(gen, tmp)
        size = await run_tool([find_tool(ARM_SIZE), "-A", obj], ARM_SIZE, timeout=60)
        nm = await run_tool([find_tool(ARM_NM), "-u", obj], ARM_NM, timeout=60)
        callgraph = Path(tmp, "model.ci").read_text() if Path(tmp, "model.ci").exists() else ""
    sections = _sections(size.stdout.decode())
    text = sum(v for k, v in sections.items() if k.startswith(".text"))
    rodata = sum(v for k, v in sections.items() if k.startswith(".rodata"))
    data = sum(v for k, v in sections.items() if k.startswith(".data"))
    bss = sum(v for k, v in sections.items() if k.startswith(".bss"))
    undefined = tuple(line.split()[-1] for line in nm.stdout.decode().splitlines() if line.strip())
    head = total = None
    if tflm:
        arena = await measure_arena(gen.model, ctx or NullContext())
        total, head = arena.arena_bytes, arena.head_bytes
    return SizeReport(gen.model, gen.arena_bytes, max_stack(callgraph, extra=asm_frames(
        gen.source)), text, rodata, data,
                      undefined, total, head, max(bss - gen.arena_bytes, 0))


def render_sizes(r: SizeReport) -> str:
    tflm = ""
    if r.tflm_arena_bytes:
        tflm = (f"  (TFLite Micro arena {r.tflm_arena_bytes:,} bytes"
                + (f", activations {r.tflm_arena_head_bytes:,}" if r.tflm_arena_head_bytes
                   else "") + f"; ratio {r.arena_bytes / r.tflm_arena_bytes:.2f})")
    return "\n".join([
        f"RAM   {r.ram_bytes:,} bytes = arena {r.arena_bytes:,} + static {r.static_bytes:,} + "
        f"stack ≈{r.stack_bytes:,}"
        + (f" + data {r.data_bytes:,}" if r.data_bytes else "") + tflm,
        f"flash {r.flash_bytes:,} bytes = code {r.code_bytes:,} + weights and constants "
        f"{r.const_bytes:,}" + (f" + data {r.data_bytes:,}" if r.data_bytes else ""),
    ])
