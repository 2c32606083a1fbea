"""The serial line format (docs/firmware.md §2) and the monitor over pyserial's `loop://`."""

from __future__ import annotations

import asyncio

import pytest

from tinyml_lsp.deploy.monitor import (
    Assembler,
    Attached,
    BoardError,
    Disconnected,
    Done,
    Inference,
    Monitor,
    OutputChunk,
    Ready,
    Released,
    Text,
    parse_line,
)
from tinyml_lsp.errors import TinymlError

INFERENCE = ("INFERENCE seq=3 class=2 label=yes score=0.996094 instructions=184520 "
             "time_us=184 output=-128,-127,127,-128")


def test_ready():
    line = "TINYML READY runtime=standalone model=micro_speech arena=7168 inputs=4\r\n"
    assert parse_line(line) == Ready("standalone", "micro_speech", 7168, 4, line.strip())


def test_inference():
    event = parse_line(INFERENCE + "\r")
    assert event == Inference(seq=3, kind="class", cls=2, label="yes", score=0.996094,
                              instructions=184520, time_us=184,
                              output=(-128, -127, 127, -128), line=INFERENCE)
    assert event.to_json()["class"] == 2 and event.to_json()["output"] == [-128, -127, 127, -128]


def test_inference_with_one_output_and_extra_fields():
    event = parse_line("INFERENCE seq=0 class=0 label=y0 score=-1.5 instructions=0 time_us=0 "
                       "output=5 board=qemu")
    assert isinstance(event, Inference) and event.output == (5,) and event.score == -1.5


def test_outputs_that_are_not_classes():
    value = parse_line("INFERENCE seq=0 value=0.841470,-0.5 instructions=40 time_us=0 "
                       "output=12,-3")
    assert value.kind == "value" and value.values == (0.84147, -0.5) and value.cls is None
    assert value.summary() == "0.8415, -0.5"
    anomaly = parse_line("INFERENCE seq=1 anomaly=0.012500 instructions=40 time_us=0")
    assert anomaly.kind == "anomaly" and anomaly.anomaly == 0.0125 and anomaly.output == ()
    raw = parse_line("INFERENCE seq=2 outputs=3 instructions=40 time_us=0 output=1,2,3")
    assert raw.kind == "raw" and raw.output == (1, 2, 3)


def test_large_outputs_come_in_output_lines_before_their_inference():
    lines = ["TINYML READY runtime=standalone model=ae arena=64 inputs=1",
             "OUTPUT seq=0 offset=0 values=" + ",".join(["1"] * 32),
             "OUTPUT seq=0 offset=32 values=" + ",".join(["-2"] * 8),
             "INFERENCE seq=0 anomaly=0.5 instructions=80 time_us=0"]
    assembler = Assembler()
    events = [assembler.feed(parse_line(line)) for line in lines]
    assert isinstance(events[1], OutputChunk) and events[1].offset == 0
    assert events[-1].output == (1,) * 32 + (-2,) * 8


def test_done_and_error():
    assert parse_line("TINYML DONE count=12") == Done(12, "TINYML DONE count=12")
    assert parse_line("TINYML ERROR arena too small: 1024 < 2048") == BoardError(
        "arena too small: 1024 < 2048", "TINYML ERROR arena too small: 1024 < 2048")


@pytest.mark.parametrize("line", [
    "hello from setup()",
    "",
    "TINYML READY runtime=standalone",  # fields missing
    "INFERENCE seq=x class=1 label=a score=0 instructions=1 time_us=1 output=1",  # not a number
    "INFERENCE seq=1 label=a instructions=1 time_us=1",  # no kind of output
    "TINYML DONE",
    "TINYML READY runtime=tflm model=m arena=1 inputs=1 garbage",  # a word without '='
    "INFERENCES are fun",
])
def test_anything_else_is_text(line):
    assert parse_line(line) == Text(line)


async def test_monitor_reads_lines_from_a_port():
    async with Monitor(port="loop://") as monitor:
        await monitor.write(b"boot\r\nTINYML READY runtime=tflm model=m arena=10 inputs=1\r\n"
                            + INFERENCE.encode() + b"\r\nTINYML DO")
        await monitor.write(b"NE count=1\r\n")
        events = await monitor.until_done(timeout=5)
    assert [type(e) for e in events] == [Attached, Text, Ready, Inference, Done]
    assert events[0] == Attached("loop://", emulated=False)


async def test_pause_releases_the_port_and_resume_reattaches():
    async with Monitor(port="loop://") as monitor:
        stream = aiter(monitor)
        assert isinstance(await anext(stream), Attached)
        await monitor.pause()
        assert await anext(stream) == Released("loop://", "paused")
        with pytest.raises(TinymlError):
            await monitor.write(b"x")
        await monitor.resume()
        assert isinstance(await asyncio.wait_for(anext(stream), 5), Attached)
        await monitor.write(b"TINYML DONE count=0\n")
        assert isinstance(await asyncio.wait_for(anext(stream), 5), Done)


async def test_a_port_that_fails_ends_the_stream_with_disconnected():
    async with Monitor(port="loop://") as monitor:
        stream = aiter(monitor)
        await anext(stream)
        monitor._serial.close()  # what a pulled USB cable looks like to the reader
        event = await asyncio.wait_for(anext(stream), 5)
    assert isinstance(event, Disconnected)


async def test_no_board_is_a_clear_error(tmp_path):
    with pytest.raises(TinymlError) as caught:
        await Monitor(tmp_path).open()
    assert "tinyml flash" in caught.value.hint
    with pytest.raises(TinymlError):
        await Monitor(port=str(tmp_path / "ttyNOPE")).open()
