"""Customize on the emulated board: every candidate is built, flashed and run in a scratch copy
and must keep the board's predictions equal to the host's before the user sees it. The LLM is
the scripted server on loopback; the builds and the board are real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.llm.conftest import config_for
from tests.llm_server import Reply, ScriptedLlm, fenced
from tests.support import SilentContext
from tinyml_lsp.llm.customize import customize

pytestmark = pytest.mark.emulator

INSTRUCTION = "print ALERT <label> after each inference whose class is up"


def main_with(project: Path, before_done: str = "", in_loop: str = "") -> str:
    """The project's main.c with code added in the loop (after the report) and before DONE."""
    text = (project / "src" / "main.c").read_text()
    if in_loop:
        text = text.replace("board_ticks_to_us(ticks));\n",
                            f"board_ticks_to_us(ticks));\n{in_loop}\n", 1)
    if before_done:
        text = text.replace("    tinyml_report_done(", f"{before_done}\n    tinyml_report_done(")
    return text


ALERT = ('        if (output0[2] > output0[0] && output0[2] > output0[1]) '
         'printf("ALERT up seq=%d\\n", seq);')


async def test_a_correct_answer_in_chatter_is_offered_after_the_board_agrees(
        llm: ScriptedLlm, stub_sketch: Path):
    main = stub_sketch / "src" / "main.c"
    before = main.read_text()
    llm.script(Reply(fenced(main_with(stub_sketch, in_loop=ALERT), path="src/main.c",
                            chatter=True), prompt_tokens=1200, completion_tokens=300))
    result = await customize(main, INSTRUCTION, SilentContext(), config=config_for(llm))
    assert result.success and len(result.rounds) == 1
    assert "+" + ALERT in result.diff and result.diff.startswith("--- a/src/main.c")
    assert "equal the host's" in (result.passed or "")
    data = result.to_json()
    assert (data["prompt_tokens"], data["completion_tokens"], data["total_tokens"]) == \
        (1200, 300, 1500)
    assert main.read_text() == before  # nothing written without --apply
    prompt = llm.requests[0].prompt  # the facts went along
    assert "MODEL_ARENA_SIZE" in prompt and INSTRUCTION in prompt
    assert "Cortex-M4F" in prompt and "classes: down, flat, up" in prompt


async def test_a_build_error_goes_back_and_the_fix_passes(llm: ScriptedLlm, stub_sketch: Path):
    broken = main_with(stub_sketch, in_loop="        alerts++;")
    llm.script(Reply(fenced(broken, path="src/main.c"), prompt_tokens=1000,
                     completion_tokens=200),
               Reply(fenced(main_with(stub_sketch, in_loop=ALERT)), prompt_tokens=1500,
                     completion_tokens=250))
    result = await customize(stub_sketch / "src" / "main.c", INSTRUCTION, SilentContext(),
                             config=config_for(llm), apply=True)
    assert result.success and [r.outcome for r in result.rounds] == ["build failed", "passed"]
    assert result.usage.calls == 2 and result.usage.total_tokens == 2950
    repair = llm.requests[1].messages[-1]["content"]
    assert re.search(r"src/main\.c:\d+:\d+: error: 'alerts' undeclared", repair)  # its own paths
    assert result.applied == ("src/main.c",)
    assert ALERT in (stub_sketch / "src" / "main.c").read_text()


async def test_broken_predictions_are_caught_by_the_board(llm: ScriptedLlm, stub_sketch: Path):
    # "smoothing" that changes the model's input: builds and runs, but the board disagrees
    wrong = main_with(stub_sketch).replace(
        "const int8_t *inputs[MODEL_INPUT_COUNT] = {test_vectors[seq]};",
        "static int8_t smoothed[MODEL_INPUT_SIZE];\n"
        "        for (int i = 0; i < MODEL_INPUT_SIZE; i++) smoothed[i] = "
        "(int8_t)(test_vectors[seq][i] / 2);\n"
        "        const int8_t *inputs[MODEL_INPUT_COUNT] = {smoothed};")
    llm.script(Reply(fenced(wrong)), Reply(fenced(wrong)))
    result = await customize(stub_sketch / "src" / "main.c", "halve the inputs",
                             SilentContext(), config=config_for(llm))
    assert not result.success and [r.outcome for r in result.rounds] == ["mismatch"] * 2
    assert "differ from the host" in (result.problem or "")
    assert result.changes == () and "smoothed" in result.candidate[0].new
    assert "no longer equal the host's" in llm.requests[1].messages[-1]["content"]


async def test_code_that_never_builds_stops_at_the_limit(llm: ScriptedLlm, stub_sketch: Path):
    broken = main_with(stub_sketch, in_loop="        alerts++;")
    llm.script(Reply(fenced(broken), prompt_tokens=900, completion_tokens=100),
               Reply(fenced(broken.replace("alerts++", "alerts += 2")), prompt_tokens=950,
                     completion_tokens=110))
    result = await customize(stub_sketch / "src" / "main.c", INSTRUCTION, SilentContext(),
                             config=config_for(llm, max_rounds=2), apply=True)
    assert not result.success and [r.outcome for r in result.rounds] == ["build failed"] * 2
    assert "'alerts' undeclared" in (result.problem or "")
    assert (result.usage.calls, result.usage.prompt_tokens) == (2, 1850)
    assert result.applied == () and "alerts" not in (stub_sketch / "src" / "main.c").read_text()
    assert "alerts += 2" in result.candidate[0].new  # the last candidate, on request


async def test_fix_build_errors(llm: ScriptedLlm, stub_sketch: Path):
    from tinyml_lsp.llm.fix_build import fix_build

    main = stub_sketch / "src" / "main.c"
    good = main.read_text()
    main.write_text(good.replace("board_init();", "board_init();\n    int unused = missing;"))
    llm.script(Reply(fenced(good, path="src/main.c", chatter=True), prompt_tokens=2000,
                     completion_tokens=400))
    result = await fix_build(stub_sketch, SilentContext(), config=config_for(llm), apply=True)
    assert result.success and len(result.rounds) == 1 and result.applied == ("src/main.c",)
    assert "-    int unused = missing;" in result.diff
    prompt = llm.requests[0].prompt
    assert "src/main.c:" in prompt and "'missing' undeclared" in prompt  # the compiler's words
    assert main.read_text() == good
