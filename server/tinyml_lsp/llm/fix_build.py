"""Fix build errors: the compiler's errors and the files they point at go to the LLM; the fix
comes back as a diff, validated like a customization (built, and for a project that knows
what the host expects, run on the emulated board and judged) before the user sees it.

The errors are those of a fresh build in a scratch copy, so the prompt has the compiler's whole
message; only the project's own sources may change, never the generated ones.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from tinyml_lsp.deploy.platformio import BuildFailed, build
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.answers import FORMAT
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.client import LlmClient
from tinyml_lsp.llm.config import LlmConfig
from tinyml_lsp.llm.edits import FileChange, apply_changes
from tinyml_lsp.llm.firmware import (
    FIRMWARE_SUFFIXES,
    Scratch,
    check_on_board,
    contract_problem,
    firmware_facts,
    load_project,
)
from tinyml_lsp.llm.loop import CheckFailed, LlmEditResult, edit_result, repair_loop
from tinyml_lsp.llm.prompts import load_prompt
from tinyml_lsp.runtime.context import JobContext, Stage

TASK = "fix build errors"
# written by `tinyml sketch` and rewritten on every update: fixed there, not by hand
GENERATED = ("src/model.h", "src/model.c", "src/test_vectors.h", "src/tinyml_report.h",
             "src/model_data.h", "src/model_data.cc", "src/tinyml_model.h", "src/tinyml_input.h")
MAIN_SOURCES = ("src/main.c", "src/main.cpp")  # the firmware's main source, either runtime
EDITABLE_SUFFIXES = (*FIRMWARE_SUFFIXES, ".h", ".hpp")


def _editable(project: Path, failure: BuildFailed) -> tuple[str, ...]:
    """The source files of `project` the errors point at (relative paths)."""
    files: list[str] = []
    for d in failure.result.errors or failure.result.diagnostics:
        if d.file is None:
            continue
        path = Path(d.file).resolve()
        if not path.is_relative_to(project) or path.suffix not in EDITABLE_SUFFIXES:
            continue
        rel = path.relative_to(project).as_posix()
        if rel not in files:
            files.append(rel)
    return tuple(files)


async def fix_build(project: str | Path, ctx: JobContext, *, config: LlmConfig,
                    cache: bool = True, apply: bool = False,
                    env: str | None = None) -> LlmEditResult:
    started = time.monotonic()
    fp = load_project(Path(project).resolve(), env)
    prompt = load_prompt("fix_build-tflm" if fp.tflm else "fix_build")
    async with Scratch(fp.root) as scratch:
        assert scratch.root is not None
        ctx.progress(0.0, "building the project to read its errors")
        try:
            await build(scratch.root, Stage(ctx, 0.0, 0.2), env=fp.check_env)
        except BuildFailed as exc:
            failure = exc
        else:
            raise TinymlError("the project builds: there are no build errors to fix", project)
        editable = tuple(f for f in _editable(scratch.root.resolve(), failure)
                         if f not in GENERATED)
        if not editable:
            raise TinymlError("the build errors are not in the project's own sources",
                              project, hint="errors in generated files (model.c, "
                              "test_vectors.h, …) are fixed by generating them again: tinyml "
                              "sketch; other errors: see tinyml build")
        errors = "\n".join(scratch.relative(str(d)) for d in failure.result.diagnostics[:30])
        language = "cpp" if fp.tflm else "c"
        files = "\n\n".join(f"FILE: {rel}\n```{language}\n{(fp.root / rel).read_text()}\n```"
                            for rel in editable)
        messages = prompt.messages(facts=firmware_facts(fp), errors=errors, files=files,
                                   format=FORMAT)

        async def check(changes: list[FileChange], stage: JobContext) -> str:
            for c in changes:
                if c.path in MAIN_SOURCES and (problem := contract_problem(c.new, fp.runtime)):
                    raise CheckFailed("line format", problem)
            scratch.write(changes, editable)
            passed, _run = await check_on_board(scratch, fp, stage)
            return passed

        async with LlmClient(config, cache=AnswerCache() if cache else None) as client:
            outcome = await repair_loop(client, prompt, messages, root=fp.root,
                                        editable=editable, check=check, ctx=Stage(ctx, 0.2, 1.0))
            usage = client.usage
    result = edit_result(TASK, fp.root, outcome, usage, started, messages,
                         errors=len(failure.result.errors))
    ctx.log(usage.line())
    if apply and result.success:
        result = replace(result, applied=tuple(apply_changes(list(result.changes))))
    return result
