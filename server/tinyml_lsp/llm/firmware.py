"""Firmware projects for the LLM: the facts a prompt carries, and the check a candidate must
pass before anyone sees it.

Facts come from tools: the model card (flatbuffer), the generated runtime's API (`model.h` as
written), the test vectors and labels, the board's table entry and its board API. The check
runs the candidate in a scratch copy of the project (never in the user's files): PlatformIO
builds it, the emulated board runs it, and the on-board verdict must pass — every inference
line still equal to the host's TFLite Micro outputs — with the serial line format intact.

`run_firmware(project, env, ctx)` (deploy.board_run.flash_and_read) is the one validation
target: any project whose environment flashes and reports in the line format plugs in.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.check.findings import Finding
from tinyml_lsp.deploy import emulator, tflm_ops
from tinyml_lsp.deploy.arduino_ini import EMULATED_ENV
from tinyml_lsp.deploy.board_run import BoardRun, RunFailed, flash_and_read
from tinyml_lsp.deploy.boards import Board, board_by_id
from tinyml_lsp.deploy.monitor import Text, is_info, parse_line
from tinyml_lsp.deploy.pio_setup import state_dir
from tinyml_lsp.deploy.platformio import BuildFailed, project_env
from tinyml_lsp.deploy.project_ini import scan_ini
from tinyml_lsp.deploy.verdict import Expected, read_expected, render_verdict
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.edits import FileChange
from tinyml_lsp.llm.loop import CheckFailed
from tinyml_lsp.resources import platform_dir
from tinyml_lsp.runtime.context import JobContext

FIRMWARE_SUFFIXES = (".c", ".cc", ".cpp", ".ino")
RESERVED_WORDS = ("TINYML", "INFERENCE", "OUTPUT")  # first words of the line format
VALIDATION_TIMEOUT = 90.0  # seconds a candidate's run may take on the emulated board
SHOWN_LINES = 25  # of the board's output, in a repair message
# what the firmware's main source must still call (docs/firmware.md §2 and §3)
REQUIRED_CALLS = ("tinyml_report_ready", "tinyml_report", "tinyml_report_done")
BoardCheck = Callable[[BoardRun], str | None]  # an instruction's own machine check


@dataclass(frozen=True)
class FirmwareProject:
    root: Path
    env: str
    board: Board | None
    model: Path | None
    expected: Expected | None
    runtime: str = "standalone"  # or "tflm": a TensorFlow Lite Micro Arduino sketch
    check_env: str = ""  # where candidates are built and run: `env`, or the emulated env

    @property
    def tflm(self) -> bool:
        return self.runtime == "tflm"


def firmware_project(source: str | Path, env: str | None = None) -> tuple[FirmwareProject, str]:
    """The project a firmware source belongs to (`<project>/src/<file>` with a platformio.ini
    that names its model), and the source's path in it; else a clear error."""
    path = Path(source).resolve()
    given = Path(source)
    if not path.is_file():
        raise TinymlError("no such file", given)
    project = path.parent.parent
    ini = project / "platformio.ini"
    if (path.suffix not in FIRMWARE_SUFFIXES or path.parent.name != "src"
            or not ini.is_file()):
        raise TinymlError("not a firmware source of a tinyml project", given,
                          hint="customize works on the main source (src/main.c, or "
                          "src/main.cpp of a TensorFlow Lite Micro sketch) of a project that "
                          "`tinyml sketch` wrote")
    return load_project(project, env), path.relative_to(project).as_posix()


def load_project(project: Path, env: str | None = None) -> FirmwareProject:
    penv = project_env(project, env)
    envs = {e.name: e for e in scan_ini((project / "platformio.ini").read_text())}
    named = envs[penv.name].model_path(project) if penv.name in envs else None
    try:
        board = board_by_id(penv.board) if penv.board else None
    except TinymlError:
        board = None
    # A real board cannot run here: candidates for it are validated on the project's emulated
    # env, which builds the same src/ (tinyml sketch writes one beside every real board's).
    check_env = penv.name if penv.emulated else next(
        (e for e in penv.envs if project_env(project, e).emulated), "")
    if not check_env:
        raise TinymlError(f"environment {penv.name!r} is a real board and the project has no "
                          "emulated environment to validate a change on", project,
                          hint="regenerate it with tinyml sketch MODEL --board BOARD (it adds "
                          f"an [env:{EMULATED_ENV}])")
    return FirmwareProject(project, penv.name, board,
                           named if named is not None and named.is_file() else None,
                           read_expected(project), penv.runtime or "standalone", check_env)


# --- facts -----------------------------------------------------------------------------------


def _elide_arrays(text: str) -> str:
    """A header with its big initialisers replaced by a count (the prompt needs names)."""
    def short(m: re.Match[str]) -> str:
        values = m.group(2).count(",") + 1
        return f"{m.group(1)}{{ /* {values} values */ }};"
    return re.sub(r"(=\s*)\{([^;]*)\};", short, text, flags=re.DOTALL)


def _declarations(header: str) -> str:
    """A header without its function bodies (each becomes `;`): the API, not the code."""
    out: list[str] = []
    depth = 0
    for char in header:
        if depth:  # inside a body being dropped
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                out.append(";")
            continue
        if char == "{" and "".join(out).rstrip().endswith(")"):
            while out and out[-1].isspace():
                out.pop()
            depth = 1
            continue
        out.append(char)
    text = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", text)


def firmware_facts(fp: FirmwareProject) -> str:
    """The facts block of a firmware prompt: measured, never guessed."""
    src = fp.root / "src"
    lines = [f"- PlatformIO project `{fp.root.name}`, environment `{fp.env}`"
             + (f"; every change is validated on environment `{fp.check_env}` (the same src/ "
                "on the emulated Cortex-M4 board, which presents itself as an Arduino Nano 33 "
                "BLE Sense)." if fp.check_env != fp.env else ".")]
    if fp.board is not None:
        b = fp.board
        lines.append(f"- Board: {b.name} ({b.mcu}, {b.core}, FPU: {b.fpu}, {b.flash_bytes:,} "
                     f"bytes flash, {b.ram_bytes:,} bytes RAM)"
                     + (": emulated under QEMU, bare metal, newlib-nano (printf with %f), "
                        "UART0 at 115200 baud is stdout; no Arduino, no RTOS"
                        if b.emulated and not fp.tflm else "."))
    if fp.tflm:
        lines.append(f"- Runtime: TensorFlow Lite Micro {tflm_ops.VERSION}, the Arduino "
                     "library pinned in platformio.ini (C++, the Arduino framework: setup(), "
                     "loop(), Serial). Its API: tflite::MicroMutableOpResolver<N> (the model's "
                     "ops, registered in src/tinyml_model.h), tflite::MicroInterpreter(model, "
                     "resolver, arena, arena_size); there is no AllOpsResolver and no "
                     "MicroErrorReporter in this version.")
    else:
        lines.append("- Runtime: the standalone C runtime generated for this model (no "
                     "interpreter, int8 end to end, one static arena, no malloc); its API is "
                     "src/model.h below.")
    if fp.model is not None:
        from tinyml_lsp.model.inspect import inspect_model

        card = inspect_model(fp.model)
        lines.append(f"- Model {fp.model.name}: {card.quantization}, {card.size_bytes:,} "
                     f"bytes, weights {card.weight_bytes:,} bytes, {card.macs:,} MACs per "
                     f"inference; ops {', '.join(card.op_names)}")
        lines += [f"  - input {t.describe()}" for t in card.inputs]
        lines += [f"  - output {t.describe()}" for t in card.outputs]
    if (m := re.search(r"#define MODEL_ARENA_SIZE\s+(\d+)", _read(src / "model.h"))):
        lines.append(f"- Arena: {int(m.group(1)):,} bytes (MODEL_ARENA_SIZE, planned at "
                     "generation)")
    if (m := re.search(r"kTinymlArenaSize\s*=\s*(\d+)", _read(src / "tinyml_model.h"))):
        lines.append(f"- Tensor arena: {int(m.group(1)):,} bytes (kTinymlArenaSize: TFLite "
                     "Micro's measured arena plus a margin)")
    if fp.expected is not None:
        e = fp.expected
        lines.append(f"- Test vectors: {len(e.outputs)} int8 inputs in src/test_vectors.h, "
                     f"already quantized; output kind: {e.kind}"
                     + (f"; classes: {', '.join(e.labels)}" if e.labels else ""))
    parts = ["\n".join(lines)]
    language = "cpp" if fp.tflm else "c"
    for title, text in (
            ("src/model.h (generated; read only)", _read(src / "model.h")),
            ("src/tinyml_model.h (generated; read only: ops, arena, I/O quantization)",
             _declarations(_read(src / "tinyml_model.h"))),
            ("src/tinyml_input.h (generated; read only: input and output helpers)",
             _declarations(_read(src / "tinyml_input.h"))),
            ("src/test_vectors.h (generated; read only; arrays elided)",
             _elide_arrays(_read(src / "test_vectors.h"))),
            ("src/tinyml_report.h (the serial reporter; read only; declarations)",
             _declarations(_read(src / "tinyml_report.h"))),
            ("tinyml_board.h (the board API, linked in)", _board_api(fp))):
        if text.strip():
            parts.append(f"### {title}\n```{language}\n{text.strip()}\n```")
    return "\n\n".join(parts)


def _board_api(fp: FirmwareProject) -> str:
    if fp.board is None or not fp.board.emulated or fp.tflm:
        return ""
    header = next(platform_dir().glob("board/*/tinyml_board.h"), None)
    return _declarations(header.read_text()) if header else ""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# --- the check -------------------------------------------------------------------------------


def contract_problem(source: str, runtime: str = "standalone") -> str | None:
    """What a main source no longer does that the line format needs, or None."""
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)
    missing = [c for c in REQUIRED_CALLS if not re.search(rf"\b{c}\s*\(", code)]
    if missing:
        return (f"the firmware no longer calls {', '.join(missing)}(): the READY, INFERENCE "
                "and DONE lines must still be printed by tinyml_report.h, one INFERENCE line "
                "per test vector, in order")
    if runtime == "tflm":
        if not re.search(r"(->|\.)\s*Invoke\s*\(", code):
            return "the sketch no longer calls the interpreter's Invoke()"
    elif not re.search(r"\bmodel_invoke(_all)?\s*\(", code):
        return "the firmware no longer calls model_invoke() / model_invoke_all()"
    return None


def format_problems(lines: tuple[str, ...]) -> list[str]:
    """Board lines that start like the line format but do not parse as it."""
    return [line for line in lines if line.split()[:1] and line.split()[0] in RESERVED_WORDS
            and isinstance(parse_line(line), Text) and not is_info(line)]


class Scratch:
    """A scratch copy of a project under the state folder, for building candidates: the
    user's files are never touched, and rounds reuse the scratch build."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.root: Path | None = None

    async def __aenter__(self) -> Scratch:
        base = state_dir() / "llm-scratch"
        base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.project.name}-", dir=base))
        await asyncio.to_thread(shutil.copytree, self.project, self.root, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(".pio", ".git"), symlinks=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.root is not None:
            await asyncio.to_thread(emulator.stop, self.root)
            await asyncio.to_thread(shutil.rmtree, self.root, True)

    def write(self, changes: list[FileChange], editable: tuple[str, ...]) -> Path:
        """The scratch project with the candidate in place (other offered files reset)."""
        assert self.root is not None
        for rel in editable:
            original = self.project / rel
            if original.is_file():
                shutil.copyfile(original, self.root / rel)
        for c in changes:
            target = self.root / c.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(c.new)
        return self.root

    def relative(self, text: str) -> str:
        """Compiler output about the scratch copy, with the project's own paths."""
        assert self.root is not None
        return text.replace(str(self.root.resolve()) + "/", "").replace(str(self.root) + "/", "")


async def check_on_board(scratch: Scratch, fp: FirmwareProject, ctx: JobContext, *,
                         board_check: BoardCheck | None = None,
                         timeout: float = VALIDATION_TIMEOUT) -> tuple[str, BoardRun | None]:
    """Build the scratch project, run it on the emulated board and judge it; CheckFailed with
    the compiler's errors, the runtime symptom or the verdict otherwise. Without the host's
    expectations (a project `tinyml sketch` did not write) only the build is checked."""
    assert scratch.root is not None
    if fp.tflm:
        await static_check(scratch, ctx)
    if fp.expected is None:
        from tinyml_lsp.deploy.platformio import build

        try:
            await build(scratch.root, ctx, env=fp.check_env)
        except BuildFailed as exc:
            raise _build_failed(scratch, exc) from None
        return "it builds (the project has no host expectations to run against)", None
    try:
        run = await flash_and_read(scratch.root, ctx, env=fp.check_env, timeout=timeout)
    except BuildFailed as exc:
        raise _build_failed(scratch, exc) from None
    except RunFailed as exc:
        shown = "\n".join(exc.lines[-SHOWN_LINES:]) or "(nothing)"
        raise CheckFailed("run failed", exc.message, f"The firmware builds, but on the board: "
                          f"{exc.message}. Its last lines:\n```\n{shown}\n```") from None
    bad = format_problems(run.lines)
    if bad:
        raise CheckFailed("line format", f"{len(bad)} line(s) break the serial line format, "
                          f"e.g. {bad[0]!r}", "These lines start like the serial line format "
                          "but do not follow it (the monitor cannot read them):\n"
                          + "\n".join(bad[:5]) + "\nLeave READY/INFERENCE/OUTPUT/DONE lines to "
                          "tinyml_report.h and start your own lines with another word.")
    assert run.verdict is not None
    if not run.verdict.ok:
        raise CheckFailed("mismatch", f"the board disagrees with the host: "
                          f"{run.verdict.problem}", "The firmware builds and runs, but its "
                          "inference lines no longer equal the host's (TFLite Micro) outputs "
                          f"for the test vectors:\n{render_verdict(run.verdict)}\nEvery test "
                          "vector must still be run through the model unchanged and reported "
                          "with tinyml_report(), in order.")
    if board_check is not None and (problem := board_check(run)):
        shown = "\n".join(run.lines[-SHOWN_LINES:])
        raise CheckFailed("check failed", problem, f"The firmware runs and the predictions "
                          f"equal the host's, but the instruction is not met: {problem}.\n"
                          f"The board printed (last lines):\n```\n{shown}\n```")
    return (f"builds, runs on the emulated board, {run.verdict.equal} of "
            f"{run.verdict.vectors} inferences equal the host's"), run


async def static_check(scratch: Scratch, ctx: JobContext) -> None:
    """`tinyml check` on the candidate, before any build: errors it brings that the user's
    project does not have (an op left out of the resolver, an accessor of the wrong type, an
    arena too small) go back to the model as compiler errors would."""
    from tinyml_lsp.check.task import check_path

    assert scratch.root is not None

    def errors(report_findings: list[Finding], root: Path) -> dict[tuple[str, str], str]:
        return {(f.code, f.message): f"{Path(f.file).relative_to(root)}:{f.range.line + 1}:"
                f"{f.range.col + 1}: error: {f.message} [{f.code}]"
                for f in report_findings if f.severity == "error"
                and Path(f.file).is_relative_to(root)}

    before = errors((await check_path(scratch.project, ctx)).findings, scratch.project)
    after = errors((await check_path(scratch.root, ctx)).findings, scratch.root)
    new = [line for key, line in after.items() if key not in before]
    if new:
        shown = "\n".join(new[:20])
        raise CheckFailed("check failed", f"tinyml check: {new[0]}",
                          "`tinyml check` (the model's measured facts: its ops, tensor types, "
                          f"quantization, arena) finds errors in the change:\n```\n{shown}\n```")


def _build_failed(scratch: Scratch, exc: BuildFailed) -> CheckFailed:
    errors = exc.result.errors or exc.result.diagnostics
    warnings = [d for d in exc.result.diagnostics if d not in errors]
    shown = "\n".join(scratch.relative(str(d)) for d in [*errors, *warnings][:20])
    summary = scratch.relative(str(errors[0])) if errors else "the build failed"
    return CheckFailed("build failed", f"build failed: {summary}",
                       f"The build failed. Compiler and linker errors:\n```\n"
                       f"{shown or scratch.relative(exc.message)}\n```")
