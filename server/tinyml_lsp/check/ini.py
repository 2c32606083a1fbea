"""platformio.ini as `tinyml check` reads it — sections, options with the place of each value
(multi-line values too) — and its rules: the model fits the env's board, the board is known,
TFLite Micro is among the libraries, the monitor speaks the sketch's baud rate."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tinyml_lsp.check.findings import Edit, Finding, Fix
from tinyml_lsp.check.source import Range
from tinyml_lsp.deploy.boards import Board, board_by_id
from tinyml_lsp.deploy.fit import fit_card, tflm_footprint
from tinyml_lsp.deploy.pio_setup import PLATFORM
from tinyml_lsp.deploy.third_party import TFLITE_MICRO
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import ModelCard
from tinyml_lsp.model.micro import ArenaReport
from tinyml_lsp.text import from_ini

INI_NAME = "platformio.ini"
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*[=:]\s*(?P<value>.*?)\s*(?:[;#].*)?$")
# what names the TFLite Micro library in lib_deps / lib_extra_dirs
_TFLM_NAMES = ("tensorflowlite", "tflite-micro", "tflite_micro", "tflm")
PLATFORMIO_DEFAULT_BAUD = 9600


@dataclass(frozen=True)
class Value:
    text: str
    range: Range


@dataclass
class Section:
    name: str
    line: int
    header: Range  # the `[env:NAME]` text
    options: dict[str, tuple[Range, list[Value]]] = field(default_factory=dict)


@dataclass
class IniFile:
    path: Path
    text: str
    sections: list[Section]

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def envs(self) -> list[Section]:
        return [s for s in self.sections if s.name.startswith("env:")]

    def default_env(self) -> Section | None:
        platformio = self.section("platformio")
        wanted = self.option_in(platformio, "default_envs") if platformio else None
        envs = self.envs()
        if wanted:
            name = re.split(r"[,\s]+", wanted[0])[0]
            return next((e for e in envs if e.name == f"env:{name}"), envs[0] if envs else None)
        return envs[0] if envs else None

    @staticmethod
    def option_in(section: Section, key: str) -> list[str] | None:
        found = section.options.get(key)
        return [v.text for v in found[1]] if found else None

    def option(self, env: Section, key: str) -> list[str] | None:
        """An env's option, else the [env] section's (common to every environment)."""
        if key in env.options:
            return self.option_in(env, key)
        common = self.section("env")
        return self.option_in(common, key) if common else None

    def values(self, env: Section, key: str) -> list[Value]:
        if key in env.options:
            return env.options[key][1]
        common = self.section("env")
        return common.options[key][1] if common and key in common.options else []


def parse_ini(path: Path, text: str) -> IniFile:
    sections: list[Section] = []
    current: Section | None = None
    last: str | None = None
    for n, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if m := _SECTION.match(line):
            current, last = Section(m["name"].strip(), n, Range(n, line.index("["), n,
                                                                m.end())), None
            sections.append(current)
            continue
        if current is None:
            continue
        if line[0] in " \t" and last is not None:  # a continuation line of a multi-line value
            value = stripped.split(" ;")[0].strip()
            col = line.index(value) if value else 0
            current.options[last][1].append(Value(from_ini(value), Range(n, col, n,
                                                                         col + len(value))))
            continue
        if m := _OPTION.match(line):
            last = m["key"]
            values = []
            if m["value"]:
                col = m.start("value")
                values.append(Value(from_ini(m["value"]), Range(n, col, n, col + len(m["value"]))))
            key_range = Range(n, m.start("key"), n, m.end("key"))
            current.options[last] = (key_range, values)
    return IniFile(path, text, sections)


def find_ini(start: Path, levels: int = 3) -> IniFile | None:
    """The platformio.ini of the project a file belongs to (its folder or up to 3 above)."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents][:levels + 1]:
        ini = candidate / INI_NAME
        if ini.is_file():
            try:
                return parse_ini(ini, ini.read_text(errors="replace"))
            except OSError:
                return None
    return None


def env_board(ini: IniFile, env: Section) -> tuple[Board | None, Value | None]:
    values = ini.values(env, "board")
    if not values:
        return None, None
    try:
        return board_by_id(values[0].text), values[0]
    except TinymlError:
        return None, values[0]


def ini_findings(ini: IniFile, card: ModelCard | None, arena: ArenaReport | None,
                 baud: int | None, uses_tflm: bool) -> list[Finding]:
    """The rules of platformio.ini, for every environment."""
    out: list[Finding] = []
    file = str(ini.path)
    for env in ini.envs():
        name = env.name[4:]
        board, value = env_board(ini, env)
        if value is not None and board is None:
            out.append(Finding(file, value.range, "tinyml/unknown-board", "warning",
                               f"env:{name}: tinyml does not know the board {value.text!r}, so "
                               "it cannot say whether the model fits it"))
        if board is not None and value is not None and card is not None:
            report = fit_card(card, tflm_footprint(card, arena), board)
            if not report.fits:
                out.append(Finding(file, value.range, "tinyml/model-does-not-fit", "error",
                                   f"env:{name}: {card.path.split('/')[-1]} does not fit the "
                                   f"{board.name}: {report.problem}"))
        platform = ini.values(env, "platform")
        # the emulated board's Arduino core provides the pinned library from the third-party
        # folder (a git URL there would send PlatformIO to the network)
        if uses_tflm and not (platform and platform[0].text == PLATFORM):
            deps = [v.text.lower() for key in ("lib_deps", "lib_extra_dirs")
                    for v in ini.values(env, key)]
            if not any(n in d for d in deps for n in _TFLM_NAMES):
                out.append(_library_missing(ini, env, file, name))
        speed = ini.values(env, "monitor_speed")
        if baud is not None and speed and speed[0].text.isdigit() and int(speed[0].text) != baud:
            out.append(Finding(
                file, speed[0].range, "tinyml/monitor-speed", "warning",
                f"env:{name}: the monitor listens at {int(speed[0].text):,} baud but the "
                f"sketch calls Serial.begin({baud}): its output would be garbled",
                Fix(f"Set monitor_speed = {baud}", (Edit(speed[0].range, str(baud)),))))
    return out


def _library_missing(ini: IniFile, env: Section, file: str, name: str) -> Finding:
    header = env.header
    deps = env.options.get("lib_deps")
    if deps and deps[1]:
        last = deps[1][-1].range
        edit = Edit(Range(last.end_line, last.end_col, last.end_line, last.end_col),
                    f"\n    {TFLITE_MICRO.lib_dep}")
    else:
        edit = Edit(Range(header.end_line, header.end_col, header.end_line, header.end_col),
                    f"\nlib_deps = {TFLITE_MICRO.lib_dep}")
    return Finding(file, header, "tinyml/library-missing", "warning",
                   f"env:{name}: the sketch uses TensorFlow Lite Micro but lib_deps does not name "
                   f"it (it left the Arduino Library Manager): add {TFLITE_MICRO.lib_dep}",
                   Fix("Add TensorFlow Lite Micro to lib_deps", (edit,)))
