"""Read a PlatformIO project's `platformio.ini` text for what tinyml needs: its environments,
the lines they span, and the model each names (`custom_tinyml_model`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.text import from_ini

MODEL_OPTION = "custom_tinyml_model"
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>[^;#]*)")


@dataclass(frozen=True)
class IniEnv:
    name: str
    first_line: int  # 0-based, the [env:NAME] line
    last_line: int
    model: str | None  # as written in the file (relative to the project folder)

    def model_path(self, project_dir: Path) -> Path | None:
        return (project_dir / self.model).resolve() if self.model else None


def scan_ini(text: str) -> list[IniEnv]:
    """The [env:…] sections of a platformio.ini, in order (a plain line scan: fast, forgiving)."""
    envs: list[IniEnv] = []
    lines = text.splitlines()
    current: dict | None = None
    common_model: str | None = None
    section = ""
    for n, line in enumerate(lines):
        if m := _SECTION.match(line):
            if current is not None:
                envs.append(IniEnv(current["name"], current["start"], n - 1, current["model"]))
            section = m.group("name").strip()
            current = ({"name": section[4:], "start": n, "model": None}
                       if section.startswith("env:") else None)
            continue
        if (m := _OPTION.match(line)) and m.group("key") == MODEL_OPTION:
            value = from_ini(m.group("value").strip())
            if current is not None:
                current["model"] = value
            elif section == "env":  # [env] holds options common to every environment
                common_model = value
    if current is not None:
        envs.append(IniEnv(current["name"], current["start"], len(lines) - 1, current["model"]))
    return [IniEnv(e.name, e.first_line, e.last_line, e.model or common_model) for e in envs]


def env_at(envs: list[IniEnv], line: int) -> IniEnv | None:
    """The environment a line belongs to; before any env, the first one."""
    for env in envs:
        if env.first_line <= line <= env.last_line:
            return env
    return envs[0] if envs and line < envs[0].first_line else None
