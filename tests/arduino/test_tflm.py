"""TFLite Micro Arduino sketches on the emulated Nano 33 BLE Sense: the library's own
hello_world, unmodified, and a colour sketch in the style of the library's examples that reads
the (emulated, replayed) APDS-9960 through Arduino_APDS9960 and runs a model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.arduino.conftest import run_sketch, texts, write_project
from tinyml_lsp.deploy import replay
from tinyml_lsp.deploy.monitor import BoardError, ReplayEnd, Text

pytestmark = pytest.mark.emulator

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"


async def test_hello_world_example_runs_unmodified(tflm_hello_world: Path, projects):
    projects.append(tflm_hello_world)
    lines = texts(await run_sketch(
        tflm_hello_world, until=lambda e: isinstance(e, Text) and e.line.startswith(
            "TINYML LED") and "brightness=0" in e.line, timeout=120))
    leds = [int(re.search(r"brightness=(\d+)", line)[1]) for line in lines
            if line.startswith("TINYML LED name=LED_BUILTIN pin=13 ")]
    printed = [int(line) for line in lines if re.fullmatch(r"-?\d+", line)]
    # as on a Nano 33 BLE Sense: the LED fades along the sine the model computes, and each
    # brightness is printed for the plotter (the LED line appears only when it changes)
    assert printed[0] == 127 and leds[0] == 127  # sin(0) = 0 → half brightness
    assert max(printed) >= 250 and leds[-1] == 0
    clamped = [min(255, max(0, b)) for b in printed]
    changes = [b for i, b in enumerate(clamped) if i == 0 or b != clamped[i - 1]]
    assert changes == leds[:len(changes)] and len(leds) - len(changes) <= 1


COLOUR_SKETCH = """\
/* Reads the colour of an object held close to the APDS-9960 and runs a model on it, in the
   style of the TinyML colour examples for the Nano 33 BLE Sense. */
#include <Arduino_APDS9960.h>
#include <TensorFlowLite.h>

#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {
const tflite::Model* model = nullptr;
tflite::MicroInterpreter* interpreter = nullptr;
TfLiteTensor* input = nullptr;
TfLiteTensor* output = nullptr;
constexpr int kTensorArenaSize = 4 * 1024;
alignas(16) uint8_t tensor_arena[kTensorArenaSize];
}  // namespace

void setup() {
  Serial.begin(9600);
  while (!Serial) {};

  if (!APDS.begin()) {
    Serial.println("Error initializing APDS9960 sensor.");
    while (1);
  }

  tflite::InitializeTarget();
  model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("Model schema version %d is not supported", model->version());
    return;
  }
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter static_interpreter(model, resolver, tensor_arena,
                                                     kTensorArenaSize);
  interpreter = &static_interpreter;
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    MicroPrintf("AllocateTensors() failed");
    return;
  }
  input = interpreter->input(0);
  output = interpreter->output(0);
  Serial.println("Show me an object");
}

void loop() {
  int r, g, b, c, p;
  float sum;

  // wait until both colour and proximity data are available
  while (!APDS.colorAvailable() || !APDS.proximityAvailable()) {}

  APDS.readColor(r, g, b, c);
  p = APDS.readProximity();
  sum = r + g + b;

  // an object close by and well lit
  if (p == 0 && c > 10 && sum > 0) {
    float x = 6.2831853f * r / sum;  // the red share of the colour, as an angle
    int8_t x_quantized = x / input->params.scale + input->params.zero_point;
    input->data.int8[0] = x_quantized;
    if (interpreter->Invoke() != kTfLiteOk) {
      MicroPrintf("Invoke failed on x: %f", static_cast<double>(x));
      return;
    }
    int8_t y_quantized = output->data.int8[0];
    Serial.print("object r=");
    Serial.print(r);
    Serial.print(" g=");
    Serial.print(g);
    Serial.print(" b=");
    Serial.print(b);
    Serial.print(" c=");
    Serial.print(c);
    Serial.print(" x_q=");
    Serial.print(x_quantized);
    Serial.print(" y_q=");
    Serial.println(y_quantized);

    // wait for the object to move away again
    while (!APDS.proximityAvailable() || (APDS.readProximity() == 0)) {}
  }
}
"""

READINGS = [(120, 40, 30, 200), (30, 140, 40, 260), (25, 35, 160, 230), (90, 90, 20, 210)]


def host_outputs(model: Path, inputs: list[int]) -> list[int]:
    """TFLite Micro's interpreter on the host (a child process: it may crash), int8 in/out."""
    code = (
        "import sys, json, numpy as np\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        "it = runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read())\n"
        "out = []\n"
        "for v in json.loads(sys.argv[2]):\n"
        "    it.set_input(np.array([[v]], dtype=np.int8), 0)\n"
        "    it.invoke()\n"
        "    out.append(int(it.get_output(0).flatten()[0]))\n"
        "print(json.dumps(out))\n")
    run = subprocess.run([sys.executable, "-c", code, str(model), str(inputs)],
                         capture_output=True, text=True, timeout=120, check=True)
    return [int(v) for v in run.stdout.strip().strip("[]").split(",")]


@pytest.fixture
def colour_project(tmp_path: Path, projects, tflm_hello_world) -> Path:
    model = MODELS / "hello_world_int8.tflite"
    project = write_project(tmp_path / "colour", {"colour.ino": COLOUR_SKETCH})
    subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "export", str(model), "--out",
                    str(project / "src")], check=True, capture_output=True, timeout=120)
    projects.append(project)
    return project


async def test_colour_sketch_steps_through_replayed_readings(colour_project: Path, tmp_path):
    csv = tmp_path / "readings.csv"
    csv.write_text("red,green,blue,clear\n" + "".join(f"{r},{g},{b},{c}\n"
                                                        for r, g, b, c in READINGS))
    replay.prepare(colour_project, [str(csv)])
    events = await run_sketch(colour_project, timeout=120)
    lines = texts(events)
    assert "Show me an object" in lines
    objects = [dict(kv.split("=") for kv in line.split()[1:]) for line in lines
               if line.startswith("object ")]
    # every reading once, in order: each object approached, was read, and left
    assert [(int(o["r"]), int(o["g"]), int(o["b"]), int(o["c"])) for o in objects] == READINGS
    # the file is exhausted: the run ends there, and the monitor with it
    assert events[-1] == ReplayEnd("apds9960", len(READINGS), events[-1].line)
    assert events[-1].line == f"TINYML REPLAY END device=apds9960 readings={len(READINGS)}"
    # the model's outputs equal TFLite Micro's on the host for the same inputs
    scale, zero_point = 0.0244801, -128
    expected_x = [int(np.float32(6.2831853) * np.float32(r) / np.float32(r + g + b)
                      / np.float32(scale) + np.float32(zero_point))
                  for r, g, b, _ in READINGS]
    x_q = [int(o["x_q"]) for o in objects]
    assert [abs(a - b) <= 1 for a, b in zip(x_q, expected_x, strict=True)] == [True] * 4
    assert [int(o["y_q"]) for o in objects] == host_outputs(
        MODELS / "hello_world_int8.tflite", x_q)


async def test_a_sensor_sketch_without_replay_is_told_how(colour_project: Path):
    replay.prepare(colour_project, [])
    events = await run_sketch(colour_project, timeout=120)
    assert isinstance(events[-1], BoardError)
    assert events[-1].message == (
        "APDS-9960 at I2C 0x39 on Wire1 has no readings to replay: flash the board with "
        "`tinyml flash DIR --replay READINGS.csv`")


def test_a_bad_replay_file_stops_before_flashing(tmp_path: Path):
    project = write_project(tmp_path / "never", {"main.cpp": "void setup(){}\nvoid loop(){}\n"})
    bad = tmp_path / "bad.csv"
    bad.write_text("10,20,30,40\n10,20,30\n")
    run = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "flash", str(project),
                          "--replay", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[0] == (
        f"error: {bad}: row 2 has 3 columns, expected 4")
    assert not (project / ".pio").exists()  # nothing was built or flashed
