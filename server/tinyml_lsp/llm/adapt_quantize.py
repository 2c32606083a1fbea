"""Adapt quantization to this script: where the deterministic "Quantize this model" cannot
find the model or the data a training script uses (unusual names, a `tf.data` pipeline, a
generator), the LLM adds the code that saves both where it can: the model as a `.keras` file
and a representative sample of the model's (preprocessed) inputs as `.npz`. Once the user
accepts the diff and runs the script, the deterministic action finds them and quantizes in its
worker as always. The deterministic action stays the first choice: a script it can read
already is refused here, with no LLM call.

The check before the user sees the diff: the script still parses, it only adds code (the
original lines stay, bar the few it must touch), and the scanner now finds a model file and
the representative `.npz` the prompt asked for.
"""

from __future__ import annotations

import ast
import difflib
import time
from dataclasses import replace
from pathlib import Path

from tinyml_lsp.errors import TinymlError, require_file
from tinyml_lsp.llm.answers import FORMAT
from tinyml_lsp.llm.cache import AnswerCache
from tinyml_lsp.llm.client import LlmClient
from tinyml_lsp.llm.config import LlmConfig
from tinyml_lsp.llm.edits import FileChange, apply_changes
from tinyml_lsp.llm.loop import CheckFailed, LlmEditResult, edit_result, repair_loop
from tinyml_lsp.llm.prompts import load_prompt
from tinyml_lsp.model import training_script
from tinyml_lsp.model.quantize import DEFAULT_SAMPLES
from tinyml_lsp.runtime.context import JobContext

TASK = "adapt quantization"
MAX_CHANGED_LINES = 3  # original lines the added code may rewrite (a save call's file name)


def representative_name(script: Path) -> str:
    return f"{script.stem}_representative.npz"


def readable_by_quantize(script: Path, text: str) -> bool:
    """Does the deterministic action find both a model and a data file in the script?"""
    scan = training_script.scan(text)
    return bool(scan and scan.model_literals and scan.data_literals)


def _found(script: Path, text: str) -> str:
    scan = training_script.scan(text)
    if scan is None:
        return "- it finds no Keras fit()/save() call in the script."
    sites = ", ".join(f"{s.call}() on line {s.line + 1}" for s in scan.sites)
    return (f"- calls: {sites}\n- model files named: {', '.join(scan.model_literals) or 'none'}"
            f"\n- dataset files named: {', '.join(scan.data_literals) or 'none'}")


def check_script(original: str, new: str, wanted: str) -> str | None:
    """What is wrong with the adapted script, or None."""
    try:
        ast.parse(new)
    except SyntaxError as exc:
        return f"the script does not parse: line {exc.lineno}: {exc.msg}"
    old_lines = [line for line in original.splitlines() if line.strip()]
    new_lines = [line for line in new.splitlines() if line.strip()]
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    if len(old_lines) - kept > MAX_CHANGED_LINES:
        return (f"{len(old_lines) - kept} of the script's lines were changed or removed: only "
                "add the saving code (touch at most the line that saves the model)")
    scan = training_script.scan(new)
    if scan is None or not any(m.lower().endswith((".keras", ".h5")) for m in
                               scan.model_literals):
        return "the script does not save the model to a .keras file named by a string literal"
    if not any(d.endswith(wanted) for d in scan.data_literals):
        return f"the script does not write the representative sample to {wanted!r}"
    return None


async def adapt_quantize(script: str | Path, ctx: JobContext, *, config: LlmConfig,
                         cache: bool = True, apply: bool = False) -> LlmEditResult:
    started = time.monotonic()
    path = require_file(script, "training script")
    if path.suffix != ".py":
        raise TinymlError("not a Python training script", path)
    text = path.read_text()
    if readable_by_quantize(path, text):
        raise TinymlError("the deterministic quantize already finds this script's model and "
                          "data: no LLM needed", path,
                          hint="use \"Quantize this model (int8)\", or tinyml quantize MODEL "
                          "--data DATA")
    wanted = representative_name(path)
    prompt = load_prompt("adapt_quantize")
    messages = prompt.messages(path=path.name, file=text, found=_found(path, text),
                               representative=wanted, samples=str(DEFAULT_SAMPLES),
                               format=FORMAT)
    editable = (path.name,)

    async def check(changes: list[FileChange], stage: JobContext) -> str:
        problem = check_script(text, changes[0].new, wanted)
        if problem is not None:
            raise CheckFailed("check failed", problem)
        return (f"it parses, only adds code, and saves the model and {wanted} where "
                "\"Quantize this model\" finds them")

    async with LlmClient(config, cache=AnswerCache() if cache else None) as client:
        outcome = await repair_loop(client, prompt, messages, root=path.parent.resolve(),
                                    editable=editable, check=check, ctx=ctx)
        usage = client.usage
    result = edit_result(TASK, path, outcome, usage, started, messages, representative=wanted)
    ctx.log(usage.line())
    if apply and result.success:
        result = replace(result, applied=tuple(apply_changes(list(result.changes))))
    return result
