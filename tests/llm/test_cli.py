"""`tinyml customize` and friends from the command line: the --json result, exit statuses,
clear errors, the key in no output and no file; and every deterministic command making zero
LLM calls with an endpoint configured."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.llm.conftest import KEY
from tests.llm.test_customize import ALERT, main_with
from tests.llm_server import Reply, ScriptedLlm, fenced
from tinyml_lsp.deploy.pio_setup import state_dir
from tinyml_lsp.llm.cache import CACHE_ENV

LLM_VARIABLES = ("TINYML_LLM_", "OPENAI_")


def tinyml(*args: str, llm: ScriptedLlm | None = None, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(LLM_VARIABLES) or k == CACHE_ENV}
    if llm is not None:
        clean.update(TINYML_LLM_BASE_URL=llm.base_url, TINYML_LLM_MODEL="scripted-model",
                     TINYML_LLM_API_KEY=KEY, TINYML_LLM_RETRIES="1")
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *args], capture_output=True,
                          text=True, env=clean, timeout=600)


def test_no_endpoint_says_how_to_set_one(stub_sketch: Path):
    out = tinyml("customize", str(stub_sketch / "src" / "main.c"), "print more")
    assert out.returncode == 1
    assert "no LLM endpoint configured — the deterministic actions still work" in out.stderr
    assert "TINYML_LLM_BASE_URL" in out.stderr


def test_not_a_firmware_source(llm: ScriptedLlm, tmp_path: Path):
    notes = tmp_path / "notes.c"
    notes.write_text("int x;\n")
    out = tinyml("customize", str(notes), "print more", llm=llm)
    assert out.returncode == 1 and "not a firmware source of a tinyml project" in out.stderr
    assert llm.requests == [] and notes.read_text() == "int x;\n"


@pytest.mark.emulator
def test_customize_json_and_the_key_nowhere(llm: ScriptedLlm, stub_sketch: Path,
                                            answer_cache: Path):
    original = (stub_sketch / "src" / "main.c").read_text()
    llm.script(Reply(fenced(main_with(stub_sketch, in_loop=ALERT), path="src/main.c"),
                     prompt_tokens=2000, completion_tokens=500))
    out = tinyml("customize", str(stub_sketch / "src" / "main.c"), "print ALERT for up",
                 "--json", "--apply", "--verbose", llm=llm, TINYML_LLM_PRICE_INPUT="2.5",
                 TINYML_LLM_PRICE_OUTPUT="10")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["success"] and result["rounds"] == 1
    assert (result["prompt_tokens"], result["completion_tokens"], result["total_tokens"]) == \
        (2000, 500, 2500)
    assert result["cost"] == pytest.approx((2000 * 2.5 + 500 * 10) / 1e6)
    assert result["seconds"] > 0 and "+" + ALERT in result["diff"]
    assert "LLM: 1 call, 2,000 prompt + 500 completion tokens" in out.stderr
    assert ALERT in (stub_sketch / "src" / "main.c").read_text()
    # the key: sent to the endpoint, and in no output, no log line, no file of the run
    assert llm.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in out.stdout and KEY not in out.stderr
    written = [p for folder in (stub_sketch, answer_cache, state_dir() / "llm-scratch")
               if folder.exists() for p in folder.rglob("*") if p.is_file()]
    assert any(p.parent == answer_cache for p in written)  # the cache was written, keyless
    assert not [p for p in written if KEY.encode() in p.read_bytes()]
    # asked again: the same request is answered from the cache, unless --no-cache
    (stub_sketch / "src" / "main.c").write_text(original)
    again = json.loads(tinyml("customize", str(stub_sketch / "src" / "main.c"),
                              "print ALERT for up", "--json", llm=llm).stdout)
    assert again["usage"]["cached"] == 1 and again["usage"]["calls"] == 0


@pytest.mark.emulator
def test_deterministic_commands_make_no_llm_call(llm: ScriptedLlm, stub_sketch: Path,
                                                 tmp_path: Path):
    data = tmp_path / "readings.csv"
    with data.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label"])
        w.writerows([[i, i * 2, "on" if i % 2 else "off"] for i in range(20)])
    model = MODELS / "hello_world_int8.tflite"
    for args in (["inspect", str(model)], ["fit", str(model), "--board", "nano33ble"],
                 ["data", "summary", str(data)],
                 ["data", "prepare", str(data), "--normalize", "--split", "0.25"],
                 ["build", str(stub_sketch)]):
        out = tinyml(*args, "--json", llm=llm)
        assert out.returncode == 0, (args, out.stderr)
    assert llm.requests == []  # an endpoint was configured, and nobody called it
