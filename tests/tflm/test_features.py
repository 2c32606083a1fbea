"""features.toml: one definition, computed the same in Python (training data) and C (board)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES, MODELS
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.features import load_features

FRUIT = EXAMPLES / "fruit-to-emoji" / "features.toml"


def test_fruit_features_are_colour_ratios() -> None:
    f = load_features(FRUIT)
    assert (f.sensor, f.reading, f.names) == ("apds9960", ("red", "green", "blue", "clear"),
                                              ("red", "green", "blue"))
    x = f.evaluate(np.array([[100, 50, 50, 230], [3, 1, 0, 5]]))
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, np.array([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0]],
                                              dtype=np.float32))


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host C compiler")
def test_the_generated_c_gives_the_same_bits(tmp_path: Path) -> None:
    """The board's feature function, compiled here, against the Python evaluation."""
    toml = tmp_path / "features.toml"
    toml.write_text('sensor = "apds9960"\nreading = ["red", "green", "blue", "clear"]\n'
                    "[features]\nr = \"red / (red + green + blue)\"\n"
                    "mix = \"(clear - 0.1 * red) * green / 3 + -blue\"\n")
    f = load_features(toml)
    rng = np.random.default_rng(0)
    readings = rng.integers(1, 4000, size=(500, 4)).astype(np.float32)
    want = f.evaluate(readings)
    rows = ",\n".join("{" + ", ".join(f"{v:.1f}f" for v in r) + "}" for r in readings)
    (tmp_path / "t.c").write_text(
        f"#include <stdio.h>\n{f.c_function()}\nstatic const float rows[][4] = {{{rows}}};\n"
        "int main(void) { float out[2]; for (unsigned i = 0; i < sizeof rows / sizeof *rows;"
        " i++) { tinyml_features(rows[i], out); fwrite(out, 4, 2, stdout); } return 0; }\n")
    subprocess.run(["gcc", "-O2", "-o", tmp_path / "t", tmp_path / "t.c"], check=True)
    out = subprocess.run([tmp_path / "t"], capture_output=True, check=True).stdout
    got = np.array(struct.unpack(f"<{len(out) // 4}f", out), dtype=np.float32).reshape(-1, 2)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize(("body", "wanted"), [
    ('sensor = "imu"\nreading = ["x"]\n[features]\na = "x"\n', "known sensors are apds9960"),
    ('sensor = "apds9960"\nreading = ["red"]\n[features]\na = "green"\n',
     "'green' is not a channel"),
    ('sensor = "apds9960"\nreading = ["red"]\n[features]\na = "red ** 2"\n', "only + - * /"),
    ('sensor = "apds9960"\nreading = ["red"]\n[features]\na = "__import__(\'os\')"\n',
     "only + - * /"),
    ('sensor = "apds9960"\nreading = ["red"]\n', "[features] table"),
    ("sensor = \n", "not a valid TOML file"),
])
def test_bad_definitions_are_named(body: str, wanted: str, tmp_path: Path) -> None:
    path = tmp_path / "features.toml"
    path.write_text(body)
    with pytest.raises(TinymlError) as error:
        load_features(path)
    assert wanted in error.value.message and error.value.path == str(path)


def test_a_real_board_env_that_needs_a_download_is_refused_at_once(tmp_path: Path) -> None:
    from tinyml_lsp.deploy.platformio import registry_reachable

    if registry_reachable():
        pytest.skip("PlatformIO's registry is reachable: the build would download")
    project = tmp_path / "fw"
    tinyml = [sys.executable, "-m", "tinyml_lsp.cli"]
    subprocess.run([*tinyml, "sketch", MODELS / "hello_world_int8.tflite", "--board",
                    "nano33ble", "--out", project, "--vectors", "2"], check=True,
                   capture_output=True)
    started = time.monotonic()
    proc = subprocess.run([*tinyml, "build", project], capture_output=True, text=True)
    assert time.monotonic() - started < 20  # no minute-long retry loop
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "HTTPClientError" not in proc.stderr
    assert "needs PlatformIO's platform 'nordicnrf52'" in proc.stderr
    assert f"pio pkg install -d {project} -e nano33ble" in proc.stderr
    assert f"tinyml build {project} --env emulated" in proc.stderr


@pytest.mark.slow
def test_fruit_sketch_reads_the_apds9960(fruit_quantized, fruit_trained: Path,
                                         tmp_path: Path) -> None:
    """--input apds9960: the readings' features, quantized, give the host's expected outputs;
    the same rows as the training's held-out features (computed from the same definition)."""
    import asyncio
    import csv
    import json

    from tests.support import SilentContext
    from tinyml_lsp.deploy import third_party
    from tinyml_lsp.deploy.sketch import plan_sketch, write_sketch
    from tinyml_lsp.model.datasets import quantize
    from tinyml_lsp.model.inspect import inspect_model
    from tinyml_lsp.model.micro import run_micro

    model = Path(fruit_quantized.files["int8"])
    readings = fruit_trained / "fruit_holdout_readings.csv"
    sketch = write_sketch(asyncio.run(plan_sketch(
        model, tmp_path / "fw", SilentContext(), board="nano33ble", input="apds9960",
        data=readings)))
    files = {f.path: f.text for f in sketch.files}
    assert "#define TINYML_INPUT_APDS9960 1" in files["src/tinyml_input.h"]
    assert "features[0] = (red / ((red + green) + blue));  // red" in files["src/tinyml_input.h"]
    assert "custom_tinyml_labels = apple, banana, orange" in files["platformio.ini"]
    assert third_party.APDS9960.lib_dep in files["platformio.ini"]

    with (fruit_trained / "fruit_holdout.csv").open() as f:
        rows = list(csv.reader(f))[1:]
    features = np.array([[float(v) for v in r[:3]] for r in rows], dtype=np.float32)
    card = inspect_model(model)
    q = quantize(features, card.inputs[0].scale, card.inputs[0].zero_point)
    host = asyncio.run(run_micro(model, q, 1 << 20, SilentContext()))
    expected = json.loads((tmp_path / "fw" / "tinyml_expected.json").read_text())
    assert len(expected["outputs"]) == len(rows) == len(sketch.vectors)
    np.testing.assert_array_equal(np.array(expected["outputs"]), host.astype(np.int64))
    classes = ["apple", "banana", "orange"]
    assert expected["truths"] == [classes.index(r[3]) for r in rows]
