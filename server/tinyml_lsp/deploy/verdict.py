"""The on-board verdict: does the board compute what the host computes?

A firmware project carries, beside its test vectors, what the host expects of them
(`tinyml_expected.json`, see `artifacts.expected_file`): the int8 outputs TFLite Micro's
interpreter gives for each vector, and each vector's true label and origin in the data. At the
end of a run, `judge` compares what the board printed with that, element by element, and
scores the board's predictions against the labels (like `stedgeai validate --mode target`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cattrs

from tinyml_lsp import artifacts
from tinyml_lsp.deploy.monitor import Inference
from tinyml_lsp.errors import TinymlError

SHOWN_MISMATCHES = 5
_converter = cattrs.Converter()


@dataclass(frozen=True)
class Expected:
    """What the host expects a project's firmware to print."""

    model: str
    kind: str  # inspect.OUTPUT_KINDS
    labels: tuple[str, ...]  # class names, when known
    source: str  # the data the vectors were taken from, or "random"
    rows: tuple[int, ...]  # each vector's sample index in the data (-1: random)
    truths: tuple[int | None, ...]  # each vector's true class, when the data has labels
    outputs: tuple[tuple[int, ...], ...]  # each vector's int8 outputs, all outputs concatenated
    macs: int = 0  # per inference: what the run's duration is estimated from

    def run_seconds(self) -> float:
        """A generous bound on one run of the firmware: the emulated board executes some
        20 million instructions a second at worst, an inference ~2 per MAC, and a serial line
        at 115200 baud carries 11,520 characters a second."""
        per_vector = (2 * self.macs + 50_000) / 20e6 + (100 + 6 * max(map(len, self.outputs),
                                                                    default=0)) / 11_520
        return 20 + len(self.outputs) * per_vector

    def write(self, project: str | Path) -> Path:
        path = artifacts.expected_file(Path(project))
        path.write_text(self.text())
        return path

    def text(self) -> str:
        return json.dumps(_converter.unstructure(self), indent=1) + "\n"


def read_expected(project: str | Path) -> Expected | None:
    """The project's expectations, or None for a project that has none (written by hand)."""
    path = artifacts.expected_file(Path(project))
    try:
        return _converter.structure(json.loads(path.read_text()), Expected)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, cattrs.BaseValidationError) as exc:
        raise TinymlError(f"cannot read what the host expects of the board: {exc}", path,
                          hint="generate the project again: tinyml sketch") from None


@dataclass(frozen=True)
class Verdict:
    vectors: int  # test vectors the firmware runs
    received: int  # of them, inferences the board reported
    equal: int  # inferences whose outputs equal the host's, element by element
    compared_elements: int
    mismatched_elements: int
    max_abs_diff: int  # largest difference between a board's and the host's int8 output
    accuracy: float | None  # the board's predictions against the true labels
    host_accuracy: float | None  # the host's, on the same vectors
    mismatches: tuple[str, ...]  # the first differences, described

    @property
    def ok(self) -> bool:
        return self.received == self.vectors and self.equal == self.vectors

    @property
    def problem(self) -> str | None:
        if self.received < self.vectors:
            return f"the board reported {self.received} of {self.vectors} inferences"
        if self.equal < self.vectors:
            return (f"{self.vectors - self.equal} of {self.vectors} inferences differ from the "
                    f"host ({self.mismatched_elements:,} of {self.compared_elements:,} output "
                    f"values, max difference {self.max_abs_diff})")
        return None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "problem": self.problem}


def judge(expected: Expected, inferences: list[Inference]) -> Verdict:
    """Compare a run's inferences (by `seq`) with the host's expectations."""
    by_seq = {i.seq: i for i in inferences if 0 <= i.seq < len(expected.outputs)}
    equal = compared = mismatched = max_diff = 0
    shown: list[str] = []
    right = host_right = scored = 0
    for seq, want in enumerate(expected.outputs):
        got = by_seq.get(seq)
        if got is None:
            continue
        compared += len(want)
        diffs = [abs(a - b) for a, b in zip(got.output, want, strict=False)]
        bad = sum(d > 0 for d in diffs) + abs(len(got.output) - len(want))
        if bad == 0:
            equal += 1
        else:
            mismatched += bad
            max_diff = max([max_diff, *diffs])
            if len(shown) < SHOWN_MISMATCHES:
                shown.append(_describe(seq, got.output, want))
        truth = expected.truths[seq] if seq < len(expected.truths) else None
        if truth is not None and expected.kind == "class" and want:
            scored += 1
            right += got.cls == truth
            host_right += max(range(len(want)), key=want.__getitem__) == truth
    return Verdict(
        vectors=len(expected.outputs), received=len(by_seq), equal=equal,
        compared_elements=compared, mismatched_elements=mismatched, max_abs_diff=max_diff,
        accuracy=right / scored if scored else None,
        host_accuracy=host_right / scored if scored else None, mismatches=tuple(shown))


def _describe(seq: int, got: tuple[int, ...], want: tuple[int, ...]) -> str:
    if len(got) != len(want):
        return f"inference {seq}: {len(got)} output values, the host has {len(want)}"
    first = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    return f"inference {seq}: output[{first}] is {got[first]} on the board, {want[first]} on " \
           "the host"


def render_verdict(v: Verdict) -> str:
    lines = [f"on-board check: {v.equal} of {v.vectors} inferences equal the host's (TFLite "
             f"Micro interpreter) element by element"
             + (f"; {v.vectors - v.received} missing" if v.received < v.vectors else "")]
    if v.mismatched_elements:
        lines.append(f"  {v.mismatched_elements:,} of {v.compared_elements:,} output values "
                     f"differ, max difference {v.max_abs_diff}")
        lines += [f"  {m}" for m in v.mismatches]
    if v.accuracy is not None:
        lines.append(f"  accuracy on the board {100 * v.accuracy:.1f}% against the true labels "
                     f"(host {100 * (v.host_accuracy or 0):.1f}%)")
    lines.append("  OK: the board agrees with the host" if v.ok else f"  MISMATCH: {v.problem}")
    return "\n".join(lines)
