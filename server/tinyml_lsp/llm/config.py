"""Which LLM endpoint to use, and how: from the editor's settings, then the environment.

Sources, first found wins for each field: the settings the face passes (LSP
`initializationOptions` / `workspace/configuration`, `tinyml.llm.*`, as a mapping with the
snake_case names of `LlmConfig`), then the environment (`TINYML_LLM_*`, and for the endpoint
and the key `OPENAI_BASE_URL` / `OPENAI_API_KEY`). Every default is here, once.

The API key is a `Secret`: its `repr`/`str` never show it, `to_json()` leaves it out, and
`scrub()` removes it from any text that might carry it (an endpoint's error body).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from tinyml_lsp.errors import TinymlError

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # local servers (Ollama, llama.cpp, vLLM) take any key

# field → environment variables, in order
ENVIRONMENT = {
    "base_url": ("TINYML_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "model": ("TINYML_LLM_MODEL",),
    "api_key": ("TINYML_LLM_API_KEY", "OPENAI_API_KEY"),
    "temperature": ("TINYML_LLM_TEMPERATURE",),
    "max_tokens": ("TINYML_LLM_MAX_TOKENS",),
    "timeout": ("TINYML_LLM_TIMEOUT",),
    "task_timeout": ("TINYML_LLM_TASK_TIMEOUT",),
    "max_rounds": ("TINYML_LLM_MAX_ROUNDS",),
    "retries": ("TINYML_LLM_RETRIES",),
    "price_input": ("TINYML_LLM_PRICE_INPUT",),
    "price_output": ("TINYML_LLM_PRICE_OUTPUT",),
    "stream": ("TINYML_LLM_STREAM",),
}
HOW_TO_CONFIGURE = ("set TINYML_LLM_BASE_URL and TINYML_LLM_MODEL (and TINYML_LLM_API_KEY, or "
                    "OPENAI_API_KEY), or the editor settings tinyml.llm.baseUrl / model / apiKey")


class Secret:
    """A value that is never shown: not in a repr, a log line, an error or a result."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: Secret | None = None
    temperature: float = 0.2
    max_tokens: int = 4096  # of one answer
    timeout: float = 120.0  # seconds, hard limit of one call (streaming included)
    task_timeout: float = 900.0  # seconds, hard limit of a whole task (all rounds)
    max_rounds: int = 3  # answers per task: the first one and the repairs
    retries: int = 4  # on 429, 5xx and connection errors, with backoff
    price_input: float | None = None  # per million prompt tokens
    price_output: float | None = None  # per million completion tokens
    stream: bool = True

    @property
    def priced(self) -> bool:
        return self.price_input is not None or self.price_output is not None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if not self.priced:
            return None
        return ((self.price_input or 0.0) * prompt_tokens
                + (self.price_output or 0.0) * completion_tokens) / 1e6

    def scrub(self, text: str) -> str:
        """`text` without the key in it."""
        key = self.api_key.reveal() if self.api_key else ""
        return text.replace(key, "***") if len(key) >= 4 else text

    def to_json(self) -> dict[str, Any]:
        """The configuration as shown to people: the key only as whether there is one."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        return {**data, "api_key": "set" if self.api_key else None}


_TYPES = {f.name: f.type for f in fields(LlmConfig)}


def _convert(name: str, value: Any, source: str) -> Any:
    kind = str(_TYPES[name])
    try:
        if "bool" in kind:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError
            return text in ("1", "true", "yes", "on")
        if "int" in kind:
            return int(value)
        if "float" in kind:
            return float(value)
    except (TypeError, ValueError):  # the value itself is not shown: it might be the key
        raise TinymlError(f"the LLM setting {name} from {source} is not a {kind.split()[0]}",
                          hint=HOW_TO_CONFIGURE) from None
    return str(value).strip()


def resolve_config(settings: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> LlmConfig | None:
    """The configuration, or None when no endpoint is configured (neither a base URL nor a
    key): then every deterministic action still works and no LLM call is made."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name in _TYPES:
        given = (settings or {}).get(name)
        if given is not None and given != "":
            values[name] = _convert(name, given, f"the setting tinyml.llm.{_camel(name)}")
            continue
        for var in ENVIRONMENT.get(name, ()):
            if env.get(var):
                values[name] = _convert(name, env[var], var)
                break
    if not values.get("base_url") and not values.get("api_key"):
        return None
    if not values.get("model"):
        raise TinymlError("an LLM endpoint is configured but no model", hint=(
            "set TINYML_LLM_MODEL or tinyml.llm.model (e.g. gpt-4o-mini, llama3.1:8b)"))
    values.setdefault("base_url", OPENAI_URL)
    key = values.pop("api_key", None)
    config = LlmConfig(api_key=Secret(key) if key else None, **values)
    if config.max_rounds < 1 or config.timeout <= 0 or config.task_timeout <= 0:
        raise TinymlError("the LLM settings need max_rounds >= 1 and positive timeouts",
                          hint=HOW_TO_CONFIGURE)
    return config


def require_config(settings: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> LlmConfig:
    """The configuration, or the error that says how to set one up."""
    config = resolve_config(settings, environ)
    if config is None:
        raise TinymlError("no LLM endpoint configured — the deterministic actions still work",
                          hint=HOW_TO_CONFIGURE)
    return config


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
