"""The llm-bench harness, checked against the scripted server: a suite whose outcomes the test
knows in advance is counted right (successes, rounds, tokens) and its checks judge the board's
real output. The figures here are the script's, not a model's: this says nothing about how
well any LLM customizes firmware (that is what `make llm-bench` measures, with an endpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.llm_harness import render, run_task, suite

from tests.emulator.stub_firmware import LABELS
from tests.llm.conftest import config_for
from tests.llm.test_customize import main_with
from tests.llm_server import Reply, ScriptedLlm, fenced
from tests.support import SilentContext

pytestmark = pytest.mark.emulator

FIRST_MAX = ("        int best = 0;\n        for (int k = 1; k < MODEL_OUTPUT_SIZE; k++) "
             "if (output0[k] > output0[best]) best = k;\n")
ALERT_DOWN = FIRST_MAX + '        if (best == 0) printf("ALERT seq=%d\\n", seq);'
COUNT = FIRST_MAX + "        counts[best]++;"
REPORT_COUNTS = ('    for (int c = 0; c < MODEL_LABEL_COUNT; c++) printf("COUNT label=%s n=%d\\n", '
                 "model_labels[c], counts[c]);")


async def test_a_scripted_suite_is_counted_right(llm: ScriptedLlm, stub_sketch: Path):
    tasks = {t.name: t for t in suite(LABELS)}
    chosen = [tasks["alert-class"], tasks["counts"], tasks["summary"]]
    counted = main_with(stub_sketch, in_loop=COUNT, before_done=REPORT_COUNTS).replace(
        "static int8_t output0", "static int counts[MODEL_LABEL_COUNT];\nstatic int8_t output0")
    llm.script(
        # alert-class: right at once
        Reply(fenced(main_with(stub_sketch, in_loop=ALERT_DOWN)), prompt_tokens=1000,
              completion_tokens=100),
        # counts: runs and agrees with the host, but counts nothing: the task's check sends it
        # back; then right
        Reply(fenced(counted.replace("counts[best]++;", "")), prompt_tokens=1100,
              completion_tokens=110),
        Reply(fenced(counted), prompt_tokens=1200, completion_tokens=120),
        # summary: never any code
        Reply("I would print a summary line.", prompt_tokens=900, completion_tokens=10),
        Reply("Still no code, sorry.", prompt_tokens=950, completion_tokens=10))
    config = config_for(llm, max_rounds=2, price_input=1.0, price_output=2.0)
    outcomes = [await run_task(t, stub_sketch, config, SilentContext()) for t in chosen]

    assert [(o.name, o.success, o.rounds) for o in outcomes] == [
        ("alert-class", True, 1), ("counts", True, 2), ("summary", False, 2)]
    assert [(o.prompt_tokens, o.completion_tokens) for o in outcomes] == [
        (1000, 100), (2300, 230), (1850, 20)]
    assert outcomes[2].problem and "no code" in outcomes[2].problem
    assert all(o.prompt_chars > 1000 for o in outcomes)  # the facts block and the file
    assert "COUNT" in llm.requests[2].messages[-1]["content"]  # the check's words went back
    assert "COUNT label=down n=0" in llm.requests[2].messages[-1]["content"]
    table = render(outcomes, "scripted-model")
    assert "success: 2/3 (67%)" in table and "rounds per task: 1.67" in table
    assert f"tokens per task: {(1100 + 2530 + 1870) / 3:,.0f}" in table
    assert "cost per task:" in table
    assert (stub_sketch / "src" / "main.c").read_text() == main_with(stub_sketch)  # untouched
