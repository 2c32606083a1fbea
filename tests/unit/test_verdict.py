"""The on-board verdict: the board's outputs against the host's, and its accuracy."""

from __future__ import annotations

from pathlib import Path

from tinyml_lsp.deploy.monitor import parse_line
from tinyml_lsp.deploy.verdict import Expected, judge, read_expected, render_verdict

EXPECTED = Expected(model="m.tflite", kind="class", labels=("a", "b"), source="d.csv",
                    rows=(4, 9, 1), truths=(0, 1, 1), outputs=((10, -10), (-5, 5), (3, -3)))


def board(*outputs: tuple[int, int]) -> list:
    lines = []
    for seq, out in enumerate(outputs):
        cls = 0 if out[0] >= out[1] else 1
        lines.append(parse_line(f"INFERENCE seq={seq} class={cls} label={'ab'[cls]} score=0.5 "
                                f"instructions=1 time_us=0 output={out[0]},{out[1]}"))
    return lines


def test_a_board_that_agrees():
    v = judge(EXPECTED, board((10, -10), (-5, 5), (3, -3)))
    assert v.ok and v.equal == 3 and v.problem is None
    # the third vector is labelled b but both host and board say a
    assert v.accuracy == v.host_accuracy == 2 / 3
    assert "OK" in render_verdict(v)


def test_a_board_that_differs_or_stops_early():
    v = judge(EXPECTED, board((10, -10), (-5, 7), (3, -3)))
    assert not v.ok and v.equal == 2 and v.mismatched_elements == 1 and v.max_abs_diff == 2
    assert v.mismatches == ("inference 1: output[1] is 7 on the board, 5 on the host",)
    assert "MISMATCH" in render_verdict(v)
    short = judge(EXPECTED, board((10, -10)))
    assert not short.ok and short.problem == "the board reported 1 of 3 inferences"


def test_the_record_round_trips(tmp_path: Path):
    EXPECTED.write(tmp_path)
    assert read_expected(tmp_path) == EXPECTED
    assert read_expected(tmp_path / "elsewhere") is None


def test_a_run_is_bounded_by_what_its_vectors_should_take():
    from dataclasses import replace

    # person_detect: 7.2 M MACs a vector, 16 vectors → well under a minute, over 20 s
    big = replace(EXPECTED, outputs=((0, 0),) * 16, macs=7_157_888)
    assert 20 < big.run_seconds() < 60
    assert EXPECTED.run_seconds() < big.run_seconds()
