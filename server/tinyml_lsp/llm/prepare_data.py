"""Prepare a dataset with the LLM: it writes a preprocessing script for the user's purpose
(normalise, encode labels, resize/grayscale, split, write `.npz` plus a representative
sample), given the dataset's measured summary. The script is offered as a new file; it runs
only once the user accepts it (`--apply`, the editor's accept), in a subprocess with a
timeout, and its outputs are then checked against what the script promised (`OUTPUTS`): the
files exist, shapes and dtypes match, no NaN/inf, the splits (`SPLITS`) share no sample.

Before the user sees the script it is checked without running it: it parses, declares
`OUTPUTS` and `SPLITS` as literals, writes only inside its folder, and imports only what the
tool's environment has.
"""

from __future__ import annotations

import ast
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.answers import FORMAT
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.client import LlmClient
from tinyml_lsp.llm.config import LlmConfig
from tinyml_lsp.llm.edits import FileChange, apply_changes
from tinyml_lsp.llm.loop import (
    CheckFailed,
    LlmEditResult,
    edit_result,
    render_edit_result,
    repair_loop,
)
from tinyml_lsp.llm.prompts import load_prompt
from tinyml_lsp.model.data_summary import render_summary, summarize
from tinyml_lsp.model.prepare import OutputCheck, Promised, check_outputs
from tinyml_lsp.model.quantize import DEFAULT_SAMPLES
from tinyml_lsp.runtime.context import JobContext
from tinyml_lsp.runtime.process import run_tool

TASK = "prepare data"
RUN_TIMEOUT = 600.0
ALLOWED_IMPORTS = {"numpy", "PIL", "csv", "json", "os", "pathlib", "math", "random", "glob",
                   "collections", "itertools", "hashlib", "sys", "re", "typing", "dataclasses",
                   "functools", "statistics", "__future__"}


def script_name(data: Path) -> str:
    return f"prepare_{data.stem if data.is_file() else data.name}.py"


def promises(source: str) -> tuple[Promised, tuple[str, ...]]:
    """The script's `OUTPUTS` and `SPLITS`, read without running it; CheckFailed if absent."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CheckFailed("check failed", f"the script does not parse: line {exc.lineno}: "
                          f"{exc.msg}") from None
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and node.targets[0].id in ("OUTPUTS", "SPLITS"):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise CheckFailed("check failed", f"{node.targets[0].id} is not a literal "
                                  "(write it out: no variables, no calls)") from None
        for imported in _imports(node):
            if imported.split(".")[0] not in ALLOWED_IMPORTS:
                raise CheckFailed("check failed", f"the script imports {imported}, which the "
                                  "tool's environment does not have (use numpy, Pillow and "
                                  "the standard library)")
    outputs, splits = found.get("OUTPUTS"), found.get("SPLITS", [])
    if not isinstance(outputs, dict) or not outputs or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in outputs.items()):
        raise CheckFailed("check failed", "the script has no OUTPUTS = {file: {array: "
                          "{\"shape\": [...], \"dtype\": ...}}} at its top level")
    for name in outputs:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CheckFailed("refused", f"OUTPUTS names {name}, outside the script's folder")
    if not isinstance(splits, list | tuple) or any(s not in outputs for s in splits):
        raise CheckFailed("check failed", "SPLITS must list files of OUTPUTS")
    return outputs, tuple(splits)


def _imports(node: ast.AST) -> list[str]:
    names = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import):
            names += [a.name for a in inner.names]
        elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
            names.append(inner.module)
    return names


@dataclass(frozen=True)
class PreparedByLlm:
    edit: LlmEditResult
    ran: bool  # the script was written and run (after acceptance)
    check: OutputCheck | None
    output: str  # the end of what the script printed

    @property
    def success(self) -> bool:
        return self.edit.success and (not self.ran or (self.check is not None
                                                       and self.check.ok))

    @property
    def problem(self) -> str | None:
        if not self.edit.success:
            return self.edit.problem
        if self.check is not None and not self.check.ok:
            return "the script's outputs failed the check: " + "; ".join(self.check.problems)
        return None

    @property
    def target(self) -> str:
        return self.edit.target

    def to_json(self) -> dict[str, Any]:
        return {**self.edit.to_json(), "ran": self.ran, "output": self.output,
                "check": self.check.to_json() if self.check else None,
                "success": self.success, "problem": self.problem}


async def run_prepare_script(script: Path, data: Path, ctx: JobContext) -> tuple[OutputCheck,
                                                                                 str]:
    """Run an accepted preparation script in its folder, then check what it wrote."""
    try:
        outputs, splits = promises(script.read_text())
    except CheckFailed as exc:  # edited after it was offered
        raise TinymlError(f"the script cannot be checked: {exc.summary}", script) from None
    ctx.progress(None, f"running {script.name}")
    out = await run_tool([sys.executable, script.name], f"the preparation script {script.name}",
                         timeout=RUN_TIMEOUT, cwd=script.parent, path=script, check=False)
    printed = (out.stdout + out.stderr).decode(errors="replace")[-2000:]
    if out.returncode != 0:
        raise TinymlError(f"the preparation script failed (exit status {out.returncode})",
                          script, hint=printed.strip().splitlines()[-1] if printed.strip()
                          else None)
    duplicates = summarize(data).duplicates
    return check_outputs(script.parent, outputs, splits=splits,
                         allowed_overlap=duplicates), printed


async def prepare_with_llm(data: str | Path, purpose: str, ctx: JobContext, *,
                           config: LlmConfig, cache: bool = True, apply: bool = False,
                           out: str | Path | None = None) -> PreparedByLlm:
    started = time.monotonic()
    path = Path(data)
    facts = summarize(path)  # errors name the data as the user gave it
    folder = (Path(out) if out else path.parent).resolve()
    name = script_name(path)
    relative = Path(path.resolve()).relative_to(folder) if path.resolve().is_relative_to(
        folder) else path.resolve()
    prompt = load_prompt("prepare_data")
    messages = prompt.messages(summary=render_summary(facts), data=relative.as_posix(),
                               purpose=purpose.strip(), script=name,
                               samples=str(DEFAULT_SAMPLES), format=FORMAT)
    if (folder / name).exists():
        raise TinymlError(f"{name} exists already; nothing was asked", folder / name,
                          hint="move it away, or give --out another folder")

    async def check(changes: list[FileChange], stage: JobContext) -> str:
        outputs, splits = promises(changes[0].new)
        return (f"the script parses and promises {', '.join(outputs)}"
                + (f" (splits {', '.join(splits)})" if splits else ""))

    async with LlmClient(config, cache=AnswerCache() if cache else None) as client:
        outcome = await repair_loop(client, prompt, messages, root=folder, editable=(name,),
                                    check=check, ctx=ctx)
        usage = client.usage
    edit = edit_result(TASK, folder / name, outcome, usage, started, messages)
    ctx.log(usage.line())
    if not (apply and edit.success):
        return PreparedByLlm(edit, False, None, "")
    edit = replace(edit, applied=tuple(apply_changes(list(edit.changes))))
    checked, printed = await run_prepare_script(folder / name, path, ctx)
    return PreparedByLlm(edit, True, checked, printed)


def render_prepared(r: PreparedByLlm, *, show_candidate: bool = False) -> str:
    text = render_edit_result(r.edit, show_candidate=show_candidate)
    if not r.ran:
        return text + ("\n(--apply writes the script, runs it and checks its outputs)"
                       if r.edit.success else "")
    assert r.check is not None
    verdict = ("outputs checked: files, shapes and dtypes as promised, finite values, "
               "disjoint splits" if r.check.ok else "OUTPUT CHECK FAILED: "
               + "; ".join(r.check.problems))
    files = ", ".join(f"{k} {v}" for k, v in r.check.arrays.items())
    return f"{text}\nran {Path(r.edit.target).name}: {verdict}\n  {files}"
