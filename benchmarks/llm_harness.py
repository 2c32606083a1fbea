"""The harness of `make llm-bench`: customization requests, each with a machine-checkable
outcome on the emulated board's serial output, run through `customize` on fresh copies of
firmware projects, counted and tabulated.

A task passes when its candidate builds, runs, keeps every inference equal to the host's (the
verdict) and meets its own check (`BenchTask.check` on the board's lines). The suite
(`suite(labels)`) is written for classifier projects (the examples);
tests/llm/test_bench_harness.py runs this harness against the scripted server to check that it
counts right.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.board_run import BoardRun
from tinyml_lsp.deploy.monitor import Inference, parse_line
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.config import LlmConfig
from tinyml_lsp.llm.customize import customize
from tinyml_lsp.runtime.context import JobContext

# published: GPT-4o generating TFLite Micro sketches for this lifecycle (the seed paper)
PUBLISHED_SUCCESS = 11 / 30
PUBLISHED_TOKENS = 13_300
PUBLISHED_COST = 0.10
PUBLISHED_SECONDS = 60.0

Check = Callable[[BoardRun], str | None]


@dataclass(frozen=True)
class BenchTask:
    name: str
    instruction: str
    check: Check


@dataclass(frozen=True)
class TaskOutcome:
    name: str
    project: str
    success: bool
    rounds: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cost: float | None
    prompt_chars: int  # facts block + file + instruction of the first request
    problem: str | None


# --- reading the board's own lines -----------------------------------------------------------


def marked(run: BoardRun, word: str) -> list[tuple[int | None, dict[str, str]]]:
    """Lines starting with `word`: (seq of the last INFERENCE before it, its key=value fields)."""
    found = []
    last: int | None = None
    for line in run.lines:
        event = parse_line(line)
        if isinstance(event, Inference):
            last = event.seq
            continue
        words = line.split()
        if words[:1] == [word]:
            found.append((last, dict(w.split("=", 1) for w in words[1:] if "=" in w)))
    return found


def _seqs(found: list[tuple[int | None, dict[str, str]]]) -> list[int]:
    return [int(f["seq"]) for _, f in found if f.get("seq", "").lstrip("-").isdigit()]


def after_each(word: str, which: Callable[[Inference, list[Inference]], bool],
               fields: Callable[[Inference, list[Inference]], dict[str, str]] | None = None
               ) -> Check:
    """A `word seq=<n> …` line right after each inference `which` selects, and no other."""
    def check(run: BoardRun) -> str | None:
        done = list(run.inferences)
        found = marked(run, word)
        want = [i.seq for k, i in enumerate(done) if which(i, done[:k])]
        got = _seqs(found)
        if got != want:
            return f"{word} lines for inferences {got}, expected for {want}"
        if any(after != int(f["seq"]) for after, f in found):
            return f"a {word} line is not right after its inference's line"
        if fields is not None:
            by_seq = {i.seq: k for k, i in enumerate(done)}
            for _, f in found:
                k = by_seq[int(f["seq"])]
                for key, value in fields(done[k], done[:k]).items():
                    if f.get(key) != value:
                        return f"{word} seq={f['seq']}: {key}={f.get(key)}, expected {value}"
        return None
    return check


def at_end(word: str, expected: Callable[[list[Inference]], list[dict[str, Any]]],
           tolerance: float = 0.0) -> Check:
    """`word` lines after the last inference, with exactly the expected fields."""
    def check(run: BoardRun) -> str | None:
        found = marked(run, word)
        last = run.inferences[-1].seq if run.inferences else None
        want = expected(list(run.inferences))
        if len(found) != len(want) or any(after != last for after, _ in found):
            return f"{len(found)} {word} line(s) after the last inference, expected {len(want)}"
        for (_, got), wanted in zip(found, want, strict=True):
            for key, value in wanted.items():
                if not _close(got.get(key), value, tolerance):
                    return f"{word}: {key}={got.get(key)}, expected {value}"
        return None
    return check


def _close(text: str | None, value: Any, tolerance: float) -> bool:
    if text is None:
        return False
    if isinstance(value, float):
        try:
            return abs(float(text) - value) <= tolerance
        except ValueError:
            return False
    return text == str(value)


def _second(i: Inference) -> int:
    order = sorted(range(len(i.output)), key=lambda k: (-i.output[k], k))
    return order[1]


def suite(labels: tuple[str, ...]) -> list[BenchTask]:
    """The fixed suite for a classifier project with these class names (≥ 12 tasks)."""
    first = labels[0]

    def label(k: int) -> str:
        return labels[k] if k < len(labels) else f"class{k}"

    def score(i: Inference) -> float:
        return i.score or 0.0

    return [
        BenchTask("confident", "After each inference whose score is above 0.8, print a line "
                  "`CONFIDENT seq=<seq> label=<label>`.",
                  after_each("CONFIDENT", lambda i, _: score(i) > 0.8,
                             lambda i, _: {"label": i.label or ""})),
        BenchTask("unsure", "After each inference whose score is below 0.6, print a line "
                  "`UNSURE seq=<seq>`.", after_each("UNSURE", lambda i, _: score(i) < 0.6)),
        BenchTask("alert-class", f"After each inference that predicts {first}, print a line "
                  "`ALERT seq=<seq>`.", after_each("ALERT", lambda i, _: i.label == first)),
        BenchTask("changed", "Whenever the predicted class differs from the previous "
                  "inference's, print `CHANGED seq=<seq> from=<previous label> to=<label>` "
                  "after that inference's line (not for the first inference).",
                  after_each("CHANGED", lambda i, before: bool(before)
                             and before[-1].cls != i.cls,
                             lambda i, before: {"from": before[-1].label or "",
                                                "to": i.label or ""})),
        BenchTask("streak", "When the same class is predicted three or more times in a row, "
                  "print `STREAK seq=<seq> label=<label>` after the third and every further "
                  "inference of the streak.",
                  after_each("STREAK", lambda i, before: len(before) >= 2
                             and before[-1].cls == before[-2].cls == i.cls,
                             lambda i, _: {"label": i.label or ""})),
        BenchTask("second", "After each inference, print `SECOND seq=<seq> label=<label>` "
                  "naming the class with the second highest output (the lower class index on "
                  "a tie).", after_each("SECOND", lambda i, _: True,
                                        lambda i, _: {"label": label(_second(i))})),
        BenchTask("margin", "After each inference, print `MARGIN seq=<seq> q=<n>` where n is "
                  "the highest raw int8 output value minus the second highest.",
                  after_each("MARGIN", lambda i, _: True, lambda i, _: {"q": str(
                      i.output[i.cls or 0] - i.output[_second(i)])})),
        BenchTask("average5", "After every fifth inference (seq 4, 9, 14, …), print "
                  "`AVERAGE seq=<seq> score=<the mean score of the last five inferences, 3 "
                  "decimals>`.",
                  after_each("AVERAGE", lambda i, _: i.seq % 5 == 4, lambda i, before: {
                      "score": f"{sum(score(x) for x in (*before[-4:], i)) / 5:.3f}"})),
        BenchTask("elapsed", "Every tenth inference (seq 9, 19, …), print `ELAPSED seq=<seq> "
                  "us=<the sum of time_us of every inference so far, this one included>`.",
                  after_each("ELAPSED", lambda i, _: i.seq % 10 == 9,
                             lambda i, before: {"us": str(sum(x.time_us for x in before)
                                                          + i.time_us)})),
        BenchTask("counts", "Before TINYML DONE, print one line `COUNT label=<label> n=<number "
                  "of inferences that predicted it>` per class, in class order, classes never "
                  "predicted included.",
                  at_end("COUNT", lambda done: [
                      {"label": label(c), "n": sum(i.cls == c for i in done)}
                      for c in range(max(len(labels), 1))])),
        BenchTask("slowest", "Before TINYML DONE, print `SLOWEST seq=<seq> instructions=<n>` "
                  "for the inference that took the most instructions (the first on a tie).",
                  at_end("SLOWEST", lambda done: [
                      {"seq": s.seq, "instructions": s.instructions} for s in
                      [max(done, key=lambda i: (i.instructions, -i.seq))]] if done else [])),
        BenchTask("summary", "Before TINYML DONE, print `SUMMARY inferences=<n> "
                  "mean_score=<the mean score, 3 decimals>`.",
                  at_end("SUMMARY", lambda done: [
                      {"inferences": len(done),
                       "mean_score": sum(score(i) for i in done) / max(len(done), 1)}],
                      tolerance=0.0015)),
        BenchTask("histogram", "Before TINYML DONE, print `HISTOGRAM low=<n> mid=<n> high=<n>` "
                  "counting the inferences with a score below 0.5, from 0.5 to 0.8, and above "
                  "0.8.", at_end("HISTOGRAM", lambda done: [
                      {"low": sum(score(i) < 0.5 for i in done),
                       "mid": sum(0.5 <= score(i) <= 0.8 for i in done),
                       "high": sum(score(i) > 0.8 for i in done)}])),
        BenchTask("mean-time", "Before TINYML DONE, print `TIME mean_us=<the mean time_us of "
                  "the inferences, rounded down to an integer>`.",
                  at_end("TIME", lambda done: [
                      {"mean_us": sum(i.time_us for i in done) // max(len(done), 1)}])),
    ]


async def run_task(task: BenchTask, project: Path, config: LlmConfig,
                   ctx: JobContext) -> TaskOutcome:
    """One request on a fresh copy of `project`: the project itself is never changed."""
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        copy = Path(tmp) / project.name
        shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".pio"))
        started = time.monotonic()
        try:
            r = await customize(copy / "src" / "main.c", task.instruction, ctx, config=config,
                                cache=False, board_check=task.check)
        except TinymlError as exc:  # the endpoint failed: the task did not pass
            return TaskOutcome(task.name, project.name, False, 0, 0, 0,
                               round(time.monotonic() - started, 1), None, 0, str(exc))
    return TaskOutcome(task.name, project.name, r.success, len(r.rounds),
                       r.usage.prompt_tokens, r.usage.completion_tokens, r.seconds,
                       r.usage.cost, r.prompt_chars, r.problem)


def render(outcomes: list[TaskOutcome], model: str) -> str:
    lines = [f"llm-bench: {len(outcomes)} customization requests, model {model}",
             f"{'task':<14} {'project':<22} {'ok':<4} {'rounds':>6} {'prompt':>8} "
             f"{'completion':>10} {'seconds':>8} {'cost':>8} {'prompt size':>12}"]
    for o in outcomes:
        cost = f"{o.cost:.4f}" if o.cost is not None else "-"
        lines.append(f"{o.name:<14} {o.project:<22} {'yes' if o.success else 'no':<4} "
                     f"{o.rounds:>6} {o.prompt_tokens:>8,} {o.completion_tokens:>10,} "
                     f"{o.seconds:>8.1f} {cost:>8} {o.prompt_chars:>9,} ch")
    for o in outcomes:
        if not o.success:
            lines.append(f"  {o.name} ({o.project}): {(o.problem or '').splitlines()[0]}")
    n = max(len(outcomes), 1)
    passed = sum(o.success for o in outcomes)
    tokens = sum(o.prompt_tokens + o.completion_tokens for o in outcomes) / n
    seconds = sum(o.seconds for o in outcomes) / n
    costs = [o.cost for o in outcomes if o.cost is not None]
    lines += [
        f"success: {passed}/{len(outcomes)} ({100 * passed / n:.0f}%) (published GPT-4o "
        f"sketches: {100 * PUBLISHED_SUCCESS:.0f}%)",
        f"rounds per task: {sum(o.rounds for o in outcomes) / n:.2f} (at most the configured "
        "repair rounds)",
        f"tokens per task: {tokens:,.0f} (published: {PUBLISHED_TOKENS:,})",
        f"seconds per task: {seconds:.1f} (published: {PUBLISHED_SECONDS:.0f})",
        f"cost per task: {sum(costs) / n:.4f} (published: {PUBLISHED_COST:.2f})" if costs
        else "cost per task: no price set (TINYML_LLM_PRICE_INPUT / _OUTPUT)",
    ]
    return "\n".join(lines)
