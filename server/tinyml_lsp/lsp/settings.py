"""The server's settings (`tinyml.*`), typed: from `initializationOptions` and
`workspace/didChangeConfiguration`. Keys are camelCase as editors write them
(`tinyml.quantize.labelColumn`). A section with a wrong type is reported once in the log and
falls back to its defaults; unknown keys are ignored (editors send settings of their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, get_type_hints

import cattrs
from cattrs.gen import make_dict_structure_fn, override

_converter = cattrs.Converter()


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _camel_case_keys(cls: type) -> bool:
    return is_dataclass(cls) and cls.__module__ == __name__


def _camel_case_hook(cls: Any) -> Any:
    overrides: dict[str, Any] = {f.name: override(rename=_camel(f.name)) for f in fields(cls)}
    return make_dict_structure_fn(cls, _converter, **overrides)


_converter.register_structure_hook_factory(_camel_case_keys, _camel_case_hook)


@dataclass(frozen=True)
class QuantizeSettings:
    data: str | None = None  # the representative dataset, instead of the one the script names
    label_column: str | None = None  # the CSV column holding the labels


@dataclass(frozen=True)
class LlmSettings:
    """`tinyml.llm.*`: the endpoint and its limits. None leaves the field to the environment
    (TINYML_LLM_*), then to the core's default (llm.config)."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None  # VS Code passes it from its secret storage
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    task_timeout: float | None = None
    max_rounds: int | None = None
    retries: int | None = None
    price_input: float | None = None  # per million prompt tokens
    price_output: float | None = None  # per million completion tokens
    stream: bool | None = None
    cache: bool = True  # answer identical requests from the on-disk cache

    def __repr__(self) -> str:  # never the key
        return f"LlmSettings(base_url={self.base_url!r}, model={self.model!r}, ...)"


@dataclass(frozen=True)
class Settings:
    quantize: QuantizeSettings = field(default_factory=QuantizeSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from a client's JSON (the object under `tinyml`, or that object itself), and
    a message for each section that was not understood."""
    if not isinstance(raw, dict):
        return Settings(), [] if raw is None else [f"settings must be an object, not {raw!r}"]
    raw = raw.get("tinyml", raw)
    if not isinstance(raw, dict):
        return Settings(), [f"the tinyml settings must be an object, not {raw!r}"]
    sections: dict[str, Any] = {}
    problems = []
    for name, section_type in get_type_hints(Settings).items():
        if name not in raw:
            continue
        if not isinstance(raw[name], dict):
            problems.append(f"setting tinyml.{name} ignored (defaults used): expected an "
                            f"object, got a {type(raw[name]).__name__}")
            continue
        try:
            sections[name] = _converter.structure(raw[name], section_type)
        except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
            problems.append(f"setting tinyml.{name} ignored (defaults used): "
                            + "; ".join(_reasons(exc)))
    key = raw.get("llm", {}).get("apiKey") if isinstance(raw.get("llm"), dict) else None
    if isinstance(key, str) and key:  # a message about the settings never shows the key
        problems = [p.replace(key, "***") for p in problems]
    return Settings(**sections), problems


def _reasons(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        return [r for sub in exc.exceptions for r in _reasons(sub)]
    return [str(exc)]
