"""Replay files for the emulated sensors: checked on the host before anything is flashed, and
the blob the board reads (no emulator needed)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tinyml_lsp.deploy import replay
from tinyml_lsp.deploy.monitor import ReplayEnd, parse_line
from tinyml_lsp.errors import TinymlError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readings.csv"
    path.write_text(text)
    return path


def test_rows_by_position_and_by_header(tmp_path: Path):
    plain = replay.read(write(tmp_path, "1,2,3,4\n5,6,7,8\n"))
    assert plain.rows == ((1, 2, 3, 4, 0), (5, 6, 7, 8, 0))
    named = replay.read(write(tmp_path, "Clear,Blue,green,RED,proximity\n40,30,20,10,3\n"))
    assert named.rows == ((10, 20, 30, 40, 3),)


@pytest.mark.parametrize(("text", "message"), [
    ("10,20,30,40\n10,20,30\n", "row 2 has 3 columns, expected 4"),
    ("10,20,30\n", "row 1 has 3 columns; the APDS-9960 colour/proximity sensor (I2C 0x39) "
                   "replays 4 or 5 columns (red, green, blue, clear, proximity)"),
    ("r,g,b,c\n1,2,3\n", "row 2 has 3 columns, expected 4"),
    ("r,g,b,c\n1,2,x,4\n", "row 2: `blue` is 'x', not a number"),
    ("1,2,3,70000\n", "row 1: `clear` is 70000; the sensor gives whole numbers from 0 to 65535"),
    ("r,g,b\n1,2,3\n", "the header has no `clear` column for the APDS-9960 colour/proximity "
                       "sensor (I2C 0x39) (it has: r, g, b)"),
    ("r,g,b,c,hue\n1,2,3,4,5\n", "the APDS-9960 colour/proximity sensor (I2C 0x39) has no "
                                 "column named hue"),
    ("\n", "the replay file holds no readings"),
])
def test_bad_files_are_named_with_their_row(tmp_path: Path, text: str, message: str):
    path = write(tmp_path, text)
    with pytest.raises(TinymlError) as caught:
        replay.read(path)
    assert caught.value.message == message
    assert caught.value.path == str(path)


def test_the_blob_the_board_reads_and_where_it_goes(tmp_path: Path):
    readings = replay.read(write(tmp_path, "1,2,3,4\n5,6,7,8\n"))
    data = replay.blob([readings])
    assert data[:8] == b"TMLREPL1" and struct.unpack_from("<I", data, 8) == (1,)
    name, columns, rows, offset = struct.unpack_from("<16sIII", data, 12)
    assert (name.rstrip(b"\0"), columns, rows) == (b"apds9960", 5, 2)
    assert struct.unpack_from("<10i", data, offset) == (1, 2, 3, 4, 0, 5, 6, 7, 8, 0)

    project = tmp_path / "project,with comma"
    assert replay.prepare(project, [f"apds9960={tmp_path / 'readings.csv'}"])
    args = replay.loader_args(project)
    assert args[0] == "-device" and ",,with comma/" in args[1]
    assert args[1].endswith(",addr=0x21000000,force-raw=on")
    replay.prepare(project, [])  # a flash without --replay forgets it
    assert replay.loader_args(project) == []


def test_the_end_of_a_replay_is_the_end_of_the_run():
    event = parse_line("TINYML REPLAY END device=apds9960 readings=12\r\n")
    assert event == ReplayEnd("apds9960", 12, "TINYML REPLAY END device=apds9960 readings=12")
