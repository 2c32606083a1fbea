"""The validate-and-repair loop every LLM task runs, and the result it gives the user.

Round after round (at most `max_rounds`): ask, read the files out of the answer, check that
they stay inside the workspace and among the files offered, then run the task's own check
(build, flash, run, compare with the host …). A candidate that passes ends the loop; any other
outcome — no usable code, a refused path, a compiler error, a crash, a prediction that differs
from the host's — goes back to the model as the next message. The user sees a candidate only
once it passed, or a report of what still fails with the last candidate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.answers import FORMAT, AnswerError, files_in
from tinyml_lsp.llm.client import LlmClient, Messages
from tinyml_lsp.llm.edits import FileChange, RefusedEdit, propose, render_diff
from tinyml_lsp.llm.prompts import Prompt
from tinyml_lsp.llm.usage import Usage
from tinyml_lsp.runtime.context import JobContext, Stage


class CheckFailed(Exception):
    """A candidate failed the task's check. `summary` is for the user's report, `feedback`
    (compiler output, the board's lines, the verdict) for the model's next round."""

    def __init__(self, outcome: str, summary: str, feedback: str | None = None) -> None:
        super().__init__(summary)
        self.outcome, self.summary, self.feedback = outcome, summary, feedback or summary


Check = Callable[[list[FileChange], JobContext], Awaitable[str]]  # → what passed, or raises


@dataclass(frozen=True)
class RoundReport:
    round: int
    outcome: str  # passed, no code, refused, unchanged, build failed, run failed, mismatch, …
    summary: str
    cached: bool

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "outcome": self.outcome, "summary": self.summary,
                "cached": self.cached}


@dataclass(frozen=True)
class LlmEditResult:
    """What an LLM task offers: a validated candidate (`changes`) or, when none passed, the
    problem and the last candidate (`candidate`); and what it cost."""

    task: str
    target: str
    success: bool
    rounds: tuple[RoundReport, ...]
    usage: Usage
    changes: tuple[FileChange, ...] = ()
    candidate: tuple[FileChange, ...] = ()  # the last candidate, when none passed
    problem: str | None = None
    passed: str | None = None  # what the passing candidate was checked for
    applied: tuple[str, ...] = ()
    seconds: float = 0.0
    prompt_chars: int = 0  # of the first request (facts and files included)
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific figures

    @property
    def diff(self) -> str:
        return render_diff(list(self.changes))

    def to_json(self) -> dict[str, Any]:
        usage = self.usage.to_json()
        data: dict[str, Any] = {
            "task": self.task, "target": self.target, "success": self.success,
            "rounds": len(self.rounds), "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"], "seconds": self.seconds,
            "diff": self.diff, "files": [c.path for c in self.changes],
            "applied": list(self.applied), "problem": self.problem, "passed": self.passed,
            "candidate_diff": render_diff(list(self.candidate)) or None,
            "round_reports": [r.to_json() for r in self.rounds], "usage": usage,
            "prompt_chars": self.prompt_chars, **self.extra}
        if self.usage.cost is not None:
            data["cost"] = self.usage.cost
        return data


def render_edit_result(r: LlmEditResult, *, show_candidate: bool = False) -> str:
    lines: list[str] = []
    if r.success:
        lines.append(r.diff.rstrip("\n") if r.changes else "(no change)")
        lines.append(f"{r.task}: the candidate passed in round {len(r.rounds)}: {r.passed}")
        lines.append(f"written: {', '.join(r.applied)}" if r.applied
                     else "nothing written (--apply writes it)")
    else:
        lines.append(f"{r.task}: no candidate passed after {len(r.rounds)} round(s): "
                     f"{r.problem}")
        lines += [f"  round {x.round}: {x.outcome}: {x.summary.splitlines()[0]}"
                  for x in r.rounds]
        if show_candidate and r.candidate:
            lines.append("the last candidate (not validated, not written):")
            lines.append(render_diff(list(r.candidate)).rstrip("\n"))
        elif r.candidate:
            lines.append("nothing written; --show-candidate prints the last candidate")
    lines.append(r.usage.line() + f"; task {r.seconds:.1f} s")
    return "\n".join(lines)


@dataclass
class LoopOutcome:
    rounds: list[RoundReport]
    changes: list[FileChange]  # the passing candidate, or the last one
    success: bool
    problem: str | None
    passed: str | None


async def repair_loop(client: LlmClient, prompt: Prompt, messages: Messages, *, root: Path,
                      editable: tuple[str, ...], check: Check, ctx: JobContext) -> LoopOutcome:
    """Ask, check, and feed the failure back, for at most the configured rounds."""
    max_rounds = client.config.max_rounds
    rounds: list[RoundReport] = []
    last: list[FileChange] = []
    messages = list(messages)
    try:
        async with asyncio.timeout(client.config.task_timeout):
            for n in range(1, max_rounds + 1):
                stage = Stage(ctx, (n - 1) / max_rounds, n / max_rounds)
                stage.progress(0.0, f"round {n} of at most {max_rounds}: asking the LLM")
                answer = await client.complete(messages, stage)
                messages.append({"role": "assistant", "content": answer.text})
                try:
                    changes = propose(root, files_in(answer.text, editable), editable)
                    if not changes:
                        raise CheckFailed("unchanged", "the answer changes nothing",
                                          "Your answer leaves the file exactly as it was.")
                    last = changes
                    stage.progress(0.2, f"round {n}: checking the candidate")
                    passed = await check(changes, Stage(stage, 0.2, 1.0))
                except RefusedEdit as exc:
                    report = RoundReport(n, "refused", str(exc), answer.cached)
                    feedback = str(exc)
                except AnswerError as exc:
                    report = RoundReport(n, "no code", str(exc), answer.cached)
                    feedback = f"{exc}. {FORMAT}"
                except CheckFailed as exc:
                    report = RoundReport(n, exc.outcome, exc.summary, answer.cached)
                    feedback = exc.feedback
                else:
                    rounds.append(RoundReport(n, "passed", passed, answer.cached))
                    ctx.log(f"round {n}: passed: {passed}")
                    return LoopOutcome(rounds, changes, True, None, passed)
                rounds.append(report)
                ctx.log(f"round {n}: {report.outcome}: {report.summary}")
                messages.append(prompt.repair_message(feedback))
    except TimeoutError:
        raise TinymlError(f"the LLM task did not finish within "
                          f"{client.config.task_timeout:.0f} s", hint="raise "
                          "tinyml.llm.taskTimeout (TINYML_LLM_TASK_TIMEOUT)") from None
    return LoopOutcome(rounds, last, False, rounds[-1].summary if rounds else None, None)


def edit_result(task: str, target: str | Path, outcome: LoopOutcome, usage: Usage,
                started: float, messages: Messages, **extra: Any) -> LlmEditResult:
    return LlmEditResult(
        task=task, target=str(target), success=outcome.success, rounds=tuple(outcome.rounds),
        usage=usage, changes=tuple(outcome.changes) if outcome.success else (),
        candidate=() if outcome.success else tuple(outcome.changes), problem=outcome.problem,
        passed=outcome.passed, seconds=round(time.monotonic() - started, 2),
        prompt_chars=sum(len(m["content"]) for m in messages), extra=extra)
