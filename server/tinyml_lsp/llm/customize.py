"""Customize: the firmware's main source changed as the user asks in plain language, and
validated on the emulated board before the user sees the diff.

`customize(file, instruction, ctx, config=…)` sends the facts (model card, board, runtime
API, test vectors), the current file and the instruction (prompts/customize.md); each candidate
is built, flashed and run in a scratch copy, and must pass the on-board verdict with the serial
line format intact. Failures go back to the model for the configured rounds. Nothing is
written unless `apply` and the candidate passed.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.answers import FORMAT
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.client import LlmClient
from tinyml_lsp.llm.config import LlmConfig
from tinyml_lsp.llm.edits import FileChange, apply_changes
from tinyml_lsp.llm.firmware import (
    BoardCheck,
    Scratch,
    check_on_board,
    contract_problem,
    firmware_facts,
    firmware_project,
)
from tinyml_lsp.llm.loop import CheckFailed, LlmEditResult, edit_result, repair_loop
from tinyml_lsp.llm.prompts import load_prompt
from tinyml_lsp.runtime.context import JobContext

TASK = "customize"


async def customize(file: str | Path, instruction: str, ctx: JobContext, *, config: LlmConfig,
                    cache: bool = True, apply: bool = False, env: str | None = None,
                    board_check: BoardCheck | None = None) -> LlmEditResult:
    """`board_check`: a machine check of the instruction on the board's run (the benchmark's),
    on top of the verdict."""
    started = time.monotonic()
    fp, rel = firmware_project(file, env)
    if not instruction.strip():
        raise TinymlError("say what to change (the instruction is empty)", file)
    if fp.expected is None:
        raise TinymlError("the project does not say what the host expects of the board, so a "
                          "customization cannot be validated", fp.root,
                          hint="generate it with tinyml sketch MODEL --out DIR")
    ctx.progress(0.0, "reading the project's facts")
    # a TensorFlow Lite Micro Arduino sketch keeps other invariants than the standalone C
    prompt = load_prompt(f"{TASK}-tflm" if fp.tflm else TASK)
    source = (fp.root / rel).read_text()
    messages = prompt.messages(facts=firmware_facts(fp), path=rel, file=source,
                               instruction=instruction.strip(), format=FORMAT)
    editable = (rel,)

    async with LlmClient(config, cache=AnswerCache() if cache else None) as client, \
            Scratch(fp.root) as scratch:
        async def check(changes: list[FileChange], stage: JobContext) -> str:
            problem = contract_problem(changes[0].new, fp.runtime)
            if problem is not None:
                raise CheckFailed("line format", problem)
            scratch.write(changes, editable)
            passed, _run = await check_on_board(scratch, fp, stage, board_check=board_check)
            return passed

        outcome = await repair_loop(client, prompt, messages, root=fp.root, editable=editable,
                                    check=check, ctx=ctx)
        usage = client.usage
    result = edit_result(TASK, fp.root / rel, outcome, usage, started, messages,
                         instruction=instruction.strip())
    ctx.log(usage.line())
    if apply and result.success:
        result = replace(result, applied=tuple(apply_changes(list(result.changes))))
    return result
