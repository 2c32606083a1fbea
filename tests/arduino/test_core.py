"""The Arduino core on the emulated board: a plain sketch, time, LEDs, Serial, missing
devices, a missing third-party folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.arduino.conftest import run_sketch, texts, write_project
from tests.support import SilentContext
from tinyml_lsp.deploy.monitor import BoardError, Text
from tinyml_lsp.deploy.platformio import BuildFailed, build

pytestmark = pytest.mark.emulator

BLINK = """\
void setup() {
  Serial.begin(9600);
  while (!Serial) {}
  pinMode(LED_BUILTIN, OUTPUT);
  pinMode(LEDR, OUTPUT);
  digitalWrite(LEDR, LOW);  // the RGB LED is active low: on
  Serial.println("hello from setup");
}

int count = 0;

void loop() {
  unsigned long before = micros();
  digitalWrite(LED_BUILTIN, HIGH);
  delay(500);
  digitalWrite(LED_BUILTIN, LOW);
  delay(500);
  Serial.print("millis=");
  Serial.print(millis());
  Serial.print(" took_us=");
  Serial.print(micros() - before);
  Serial.print(" read=");
  Serial.println(digitalRead(LED_BUILTIN));
  if (++count == 3) {
    Serial.println("done");
    while (true) {}
  }
}
"""


def is_done(event) -> bool:
    return isinstance(event, Text) and event.line == "done"


async def test_plain_ino_runs_with_exact_time_and_visible_leds(tmp_path: Path, projects):
    project = write_project(tmp_path / "blink", {"blink.ino": BLINK})
    projects.append(project)
    first = texts(await run_sketch(project, until=is_done))
    assert first[0] == "TINYML LED name=LEDR pin=22 brightness=255"
    assert first[1] == "hello from setup"
    leds = [line for line in first if line.startswith("TINYML LED name=LED_BUILTIN")]
    assert leds == ["TINYML LED name=LED_BUILTIN pin=13 brightness=255",
                    "TINYML LED name=LED_BUILTIN pin=13 brightness=0"] * 3
    timing = [line for line in first if line.startswith("millis=")]
    assert [int(re.search(r"millis=(\d+)", t)[1]) for t in timing] == [1000, 2000, 3000]
    for line in timing:  # a second of delays, to within the instructions around them
        took = int(re.search(r"took_us=(\d+)", line)[1])
        assert 1_000_000 <= took < 1_000_200
        assert line.endswith("read=0")
    assert first[-1] == "done"
    # deterministic: a second run (a fresh QEMU) prints the very same lines
    assert texts(await run_sketch(project, until=is_done)) == first


MISSING_DEVICE = """\
#include <Arduino.h>
#include <Wire.h>

void setup() {
  Serial.begin(115200);
  Wire1.begin();
  Wire1.beginTransmission(0x39);  // the APDS-9960 answers
  Serial.print("apds=");
  Serial.println(Wire1.endTransmission());
  BUS.beginTransmission(ADDRESS);
  BUS.write(0x0F);
  Serial.println(BUS.endTransmission());
  Serial.println("not reached");
}

void loop() {}
"""


@pytest.mark.parametrize(("bus", "address", "message"), [
    ("Wire1", "0x6B", "I2C device 0x6B on Wire1 (LSM9DS1 IMU, accelerometer and gyroscope) is "
                      "not emulated on this board; emulated: APDS-9960 at 0x39 on Wire1"),
    ("Wire", "0x50", "no I2C device at address 0x50 on Wire; emulated: APDS-9960 at 0x39 on "
                     "Wire1"),
])
async def test_a_sensor_the_board_lacks_is_named(tmp_path: Path, projects, bus, address,
                                                 message):
    source = f"#define BUS {bus}\n#define ADDRESS {address}\n" + MISSING_DEVICE
    project = write_project(tmp_path / "missing", {"main.cpp": source})
    projects.append(project)
    events = await run_sketch(project)
    assert "apds=0" in texts(events)
    assert isinstance(events[-1], BoardError)
    assert events[-1].message == message
    assert "not reached" not in texts(events)


async def test_missing_third_party_folder_names_the_setting(tmp_path: Path, monkeypatch):
    project = write_project(tmp_path / "nolib", {"blink.ino": BLINK})
    monkeypatch.setenv("TINYML_THIRD_PARTY", str(tmp_path / "nowhere"))
    with pytest.raises(BuildFailed) as caught:
        await build(project, SilentContext(), jobs=1)
    log = caught.value.message
    assert f"{tmp_path / 'nowhere'}" in log
    assert "ArduinoCore-API" in log and "TINYML_THIRD_PARTY" in log
