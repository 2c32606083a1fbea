"""`tinyml check`: a sketch (or every sketch of a project, and its platformio.ini) against the
model it runs — the findings, and `fix_sketch` to apply their quick fixes."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyml_lsp.check.findings import Edit, Finding, apply_edits
from tinyml_lsp.check.ini import INI_NAME, IniFile, env_board, find_ini, ini_findings, parse_ini
from tinyml_lsp.check.model_source import (
    ModelFacts,
    NoModel,
    header_constants,
    header_files,
    resolve_model,
)
from tinyml_lsp.check.rules import Context, check_sketch
from tinyml_lsp.check.sketch import SKETCH_SUFFIXES, Sketch, parse_sketch
from tinyml_lsp.check.source import Range
from tinyml_lsp.deploy.boards import Board, board_by_id
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.context import JobContext

if TYPE_CHECKING:  # features.py brings numpy: imported in the check's thread, not at start
    from tinyml_lsp.model.features import Features

MAX_CHECKED = 2_000_000  # bytes: bigger files are no sketches (a model header is read apart)
MAX_HEADER = 256 * 1024  # bytes: a header read with the sketch
MAX_HEADERS = 16
_QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)
_LEGACY_LIBS = ("arduino-libraries/arduino_tensorflowlite", "arduino_tensorflowlite@1",
                "arduino_tensorflowlite@2.1", "arduino_tensorflowlite@^1", "@2.4.0-alpha-precomp")


@dataclass(frozen=True)
class FileReport:
    file: str
    model: str | None  # where the model came from
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "model": self.model,
                "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True)
class CheckReport:
    files: tuple[FileReport, ...] = field(default_factory=tuple)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"files": [r.to_json() for r in self.files], "errors": self.errors,
                "findings": len(self.findings)}


def render_check(report: CheckReport) -> str:
    lines = [f.render() for f in report.findings]
    counts = {s: sum(f.severity == s for f in report.findings)
              for s in ("error", "warning", "information", "hint")}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'information' else ''}"
                        for s, n in counts.items() if n)
    lines.append(f"{len(report.files)} file(s) checked: {summary or 'no findings'}")
    return "\n".join(lines)


def _whole_first_line(text: str) -> Range:
    first = text.split("\n", 1)[0]
    return Range(0, 0, 0, min(len(first), 200))


def _legacy(sk: Sketch, ini: IniFile | None) -> bool:
    if any("experimental/micro" in i.path for i in sk.includes):
        return True
    if ini is None:
        return False
    deps = [v.text.lower() for env in ini.envs() for v in ini.values(env, "lib_deps")]
    return any(mark in d.replace(" ", "") for d in deps for mark in _LEGACY_LIBS)


def _features(model: Path, sketch: Path) -> Features | None:
    """The features definition beside the model (or the sketch), when there is a valid one."""
    from tinyml_lsp.model.features import find_features, load_features

    for near in (model, sketch):
        try:
            return load_features(find_features(near))
        except TinymlError:
            continue
    return None


def _board(given: str | None, ini: IniFile | None) -> Board | None:
    if given:
        return board_by_id(given)
    env = ini.default_env() if ini else None
    return env_board(ini, env)[0] if ini is not None and env is not None else None


async def check_text(path: Path, text: str, ctx: JobContext, *, model: Path | None = None,
                     board: str | None = None) -> FileReport:
    """One file's findings (a sketch or a platformio.ini), its text as the editor has it."""
    file = str(path)
    if len(text.encode("utf-8", errors="replace")) > MAX_CHECKED or "\x00" in text[:8192]:
        what = "binary data" if "\x00" in text[:8192] else f"above {MAX_CHECKED:,} bytes"
        return FileReport(file, None, (Finding(
            file, _whole_first_line(text), "tinyml/not-checked", "information",
            f"not checked: {what}, no sketch"),))
    if path.name == INI_NAME:
        return await _check_ini(path, text, ctx, model)
    headers = await asyncio.to_thread(local_headers, path, text)
    sk = await asyncio.to_thread(parse_sketch, text, file, headers)
    if not sk.uses_tflm:
        return FileReport(file, None, ())
    ini = await asyncio.to_thread(find_ini, path)
    resolved = await resolve_model(path, sk, model, ctx)
    if isinstance(resolved, NoModel):
        return FileReport(file, None, (Finding(
            file, _whole_first_line(text), "tinyml/no-model", "information", resolved.reason),))
    if resolved.include is not None:  # the header's constants (g_model_arena_size)
        with contextlib.suppress(OSError):
            sk.extra_constants = header_constants(resolved.path.read_text(errors="replace"))
    features = await asyncio.to_thread(_features, resolved.path, path)
    ctx_rules = Context(file, sk, resolved, _board(board, ini), _legacy(sk, ini), features)
    findings = await asyncio.to_thread(check_sketch, ctx_rules)
    return FileReport(file, resolved.origin, tuple(sorted(findings, key=lambda f: f.range)))


async def _check_ini(path: Path, text: str, ctx: JobContext, model: Path | None) -> FileReport:
    ini = parse_ini(path, text)
    sketches = _project_sketches(path.parent)
    baud, uses_tflm, facts = None, False, None
    for sketch in sketches:
        sk = await asyncio.to_thread(parse_sketch, sketch.read_text(errors="replace"))
        if not sk.uses_tflm and sk.serial_baud is None:
            continue
        uses_tflm = uses_tflm or sk.uses_tflm
        baud = baud or (sk.serial_baud[0] if sk.serial_baud else None)
        if facts is None and sk.uses_tflm:
            found = await resolve_model(sketch, sk, model, ctx)
            facts = found if isinstance(found, ModelFacts) else None
    if facts is None:
        env = ini.default_env()
        named = ini.option(env, "custom_tinyml_model") if env else None
        if named and (path.parent / named[0]).is_file():
            from tinyml_lsp.check.model_source import facts_of_bytes

            card, arena = await facts_of_bytes((path.parent / named[0]).read_bytes(), ctx)
            findings = ini_findings(ini, card, arena, baud, uses_tflm)
            return FileReport(str(path), named[0], tuple(findings))
    findings = ini_findings(ini, facts.card if facts else None, facts.arena if facts else None,
                            baud, uses_tflm)
    return FileReport(str(path), facts.origin if facts else None, tuple(findings))


def local_headers(path: Path, text: str, depth: int = 2) -> tuple[tuple[str, str], ...]:
    """The project's own headers a file includes (`#include "x.h"`, and theirs, two levels
    deep), as (file, text): the sketch is read with them as one program. Model arrays and
    other big headers are left out (the model is read apart)."""
    found: dict[str, str] = {}
    todo = [(path, text, 0)]
    while todo and len(found) < MAX_HEADERS:
        current, body, level = todo.pop(0)
        for name in _QUOTED_INCLUDE.findall(body):
            for header in header_files(current.parent, name)[:1]:
                key = str(header.resolve())
                if key in found or key == str(path.resolve()):
                    continue
                try:
                    if header.stat().st_size > MAX_HEADER:
                        continue
                    found[key] = header.read_text(errors="replace")
                except OSError:
                    continue
                if level + 1 < depth:
                    todo.append((header, found[key], level + 1))
    return tuple(found.items())


def _project_sketches(folder: Path) -> list[Path]:
    found: list[Path] = []
    for sub in (folder, folder / "src"):
        if sub.is_dir():
            found += sorted(p for p in sub.iterdir() if p.suffix in SKETCH_SUFFIXES
                            and p.is_file() and p.stat().st_size <= MAX_CHECKED)
    return found


def _files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise TinymlError("no such file or folder", target)
    files = _project_sketches(target)
    included = {h for f in files if f.suffix != ".h"
                for h, _ in local_headers(f, f.read_text(errors="replace"))}
    files = [f for f in files if str(f.resolve()) not in included]  # read with their sketch
    if (target / INI_NAME).is_file():
        files.append(target / INI_NAME)
    if not files:
        raise TinymlError("no sketch (.ino, .cpp, .c, .h) or platformio.ini here", target)
    return files


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TinymlError(f"cannot read it: {exc.strerror}", path) from exc
    return data[:MAX_CHECKED + 1].decode("utf-8", errors="replace") + (
        "\n" * (len(data) > MAX_CHECKED + 1))


async def check_path(target: str | Path, ctx: JobContext, *, model: str | Path | None = None,
                     board: str | None = None) -> CheckReport:
    """Check a sketch, a platformio.ini, or a project folder (its sketches and its ini)."""
    given = Path(model) if model else None
    if given is not None and not given.is_file():
        raise TinymlError("no such model file", given)
    if board:
        board_by_id(board)  # an unknown board is the user's to fix, said before any work
    reports = []
    for path in _files(Path(target)):
        text = await asyncio.to_thread(_read, path)
        reports.append(await check_text(path, text, ctx, model=given, board=board))
    return CheckReport(tuple(reports))


def fix_files(report: CheckReport) -> list[str]:
    """Apply every quick fix of a report to its files; the files changed."""
    by_file: dict[str, list[Edit]] = {}
    for f in report.findings:
        for e in f.fix.edits if f.fix else ():
            by_file.setdefault(e.file or f.file, []).append(e)
    for file, edits in by_file.items():
        path = Path(file)
        path.write_text(apply_edits(path.read_text(), edits))
    return list(by_file)
