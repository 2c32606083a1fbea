"""What a task spent on the LLM: calls, tokens, seconds and, when a price is set, cost.

Every task keeps one `Usage` and shows it in its final log line, its `--json` result and its
report. Tokens are the endpoint's own counts (`usage` of its answers); an endpoint that does
not report them is counted as such (`unreported`), never guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Usage:
    calls: int = 0  # requests the endpoint answered
    cached: int = 0  # answers taken from the on-disk cache (no request)
    retries: int = 0  # requests repeated after a 429, a 5xx or a lost connection
    unreported: int = 0  # answers without token counts
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # waiting for the endpoint
    cost: float | None = None  # in the price's currency, when a price is configured

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, prompt_tokens: int, completion_tokens: int, seconds: float,
            cost: float | None) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.seconds = round(self.seconds + seconds, 3)
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "total_tokens": self.total_tokens}

    def line(self) -> str:
        """One line for the log: `LLM: 2 calls (1 cached), 1,234 + 567 tokens, 8.1 s, $0.0021`."""
        text = f"LLM: {self.calls} call{'s' if self.calls != 1 else ''}"
        extras = [f"{self.cached} cached"] if self.cached else []
        extras += [f"{self.retries} retried"] if self.retries else []
        text += f" ({', '.join(extras)})" if extras else ""
        text += (f", {self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion "
                 f"tokens, {self.seconds:.1f} s")
        if self.unreported:
            text += f" ({self.unreported} answer(s) without token counts)"
        return text + (f", cost {self.cost:.4f}" if self.cost is not None else "")
