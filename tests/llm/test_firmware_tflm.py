"""A TensorFlow Lite Micro Arduino sketch as the LLM sees it: the facts of its library and its
generated headers, its own contract, and validation on the project's emulated env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.firmware import contract_problem, firmware_facts, firmware_project


@pytest.fixture(scope="module")
def tflm_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = MODELS / "hello_world_int8.tflite"
    if not model.is_file():
        pytest.skip("the shared models are not on this machine")
    out = tmp_path_factory.mktemp("tflm") / "fw"
    proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "sketch", str(model),
                           "--board", "nano33ble", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def test_facts_name_the_library_and_the_validation_env(tflm_project: Path):
    fp, rel = firmware_project(tflm_project / "src" / "main.cpp")
    assert rel == "src/main.cpp" and fp.tflm and fp.env == "nano33ble"
    assert fp.check_env == "emulated"
    facts = firmware_facts(fp)
    assert "TensorFlow Lite Micro 2.4.0" in facts and "no AllOpsResolver" in facts
    assert "validated on environment `emulated`" in facts
    arena = int(facts.split("- Tensor arena: ")[1].split(" bytes")[0].replace(",", ""))
    assert f"kTinymlArenaSize = {arena}" in (tflm_project / "src" / "tinyml_model.h").read_text()
    assert "### src/tinyml_model.h" in facts and "```cpp" in facts
    assert "Nano 33 BLE Sense" in facts


def test_contract_of_a_sketch_is_its_invoke(tflm_project: Path):
    source = (tflm_project / "src" / "main.cpp").read_text()
    assert contract_problem(source, "tflm") is None
    assert "model_invoke()" in (contract_problem(source, "standalone") or "")
    broken = source.replace("interpreter->Invoke()", "kTfLiteOk")
    assert "Invoke()" in (contract_problem(broken, "tflm") or "")


def test_a_real_board_without_an_emulated_env_is_refused(tflm_project: Path, tmp_path: Path):
    project = tmp_path / "fw"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.cpp").write_text("void setup() {}\nvoid loop() {}\n")
    ini = (tflm_project / "platformio.ini").read_text()
    (project / "platformio.ini").write_text(ini.split("[env:emulated]")[0])
    with pytest.raises(TinymlError) as error:
        firmware_project(project / "src" / "main.cpp")
    assert "no emulated environment" in error.value.message


async def test_tinyml_check_errors_in_a_candidate_go_back_like_compiler_errors(
        tflm_project: Path):
    from tests.support import SilentContext
    from tinyml_lsp.llm.edits import FileChange
    from tinyml_lsp.llm.firmware import Scratch, static_check
    from tinyml_lsp.llm.loop import CheckFailed

    main = tflm_project / "src" / "main.cpp"
    original = main.read_text()
    async with Scratch(tflm_project) as scratch:
        await static_check(scratch, SilentContext())  # the generated project: nothing new
        broken = original + (
            "\nvoid tinyml_wrong(tflite::MicroInterpreter* i) { i->output(0)->data.f[0] = 1; }\n")
        scratch.write([FileChange("src/main.cpp", str(main), original, broken)],
                      ("src/main.cpp",))
        with pytest.raises(CheckFailed) as failed:
            await static_check(scratch, SilentContext())
    assert failed.value.outcome == "check failed"
    assert "[tinyml/accessor-type]" in failed.value.feedback
    assert "src/main.cpp:" in failed.value.feedback
    assert main.read_text() == original  # the user's file untouched


@pytest.mark.emulator
async def test_customize_a_sketch_validated_on_its_emulated_env(tflm_project: Path):
    """The whole loop on a TensorFlow Lite Micro sketch: a candidate that reads the int8 output
    as float goes back with tinyml check's error; the next one builds for the emulated env,
    runs, and its inferences equal the host's. The LLM is the scripted server; the build and
    the board are real."""
    from tests.llm.conftest import config_for
    from tests.llm_server import Reply, ScriptedLlm, fenced
    from tests.support import SilentContext
    from tinyml_lsp.llm.customize import customize

    main = tflm_project / "src" / "main.cpp"
    original = main.read_text()
    done = "        tinyml_report_done(seq);\n"
    assert original.count(done) == 1
    stats = '        Serial.print("STATS inferences="); Serial.println(seq);\n'
    wrong = original.replace(done, "        Serial.println(interpreter->output(0)->data.f[0]);\n"
                             + done)
    with ScriptedLlm() as llm:
        llm.script(Reply(fenced(wrong, "cpp", path="src/main.cpp")),
                   Reply(fenced(original.replace(done, stats + done), "cpp",
                                path="src/main.cpp")))
        result = await customize(main, "print STATS inferences=<count> at the end",
                                 SilentContext(), config=config_for(llm))
        prompt = llm.requests[0].prompt
        repair = llm.requests[1].messages[-1]["content"]
    assert [r.outcome for r in result.rounds] == ["check failed", "passed"], result.problem
    assert result.success and "+" + stats.rstrip("\n") in result.diff
    assert "equal the host's" in (result.passed or "")
    assert "[tinyml/accessor-type]" in repair
    assert "TensorFlow Lite Micro 2.4.0" in prompt and "kTinymlArenaSize" in prompt
    assert main.read_text() == original  # nothing written without apply
