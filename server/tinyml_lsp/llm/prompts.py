"""The prompts: one file per task in `prompts/`, sections `[system]`, `[user]` and `[repair]`,
with named placeholders (`${facts}`, `${file}`, …) filled here. A placeholder left unfilled, or
a value no section asks for, is a bug caught at once, not a prompt with a hole in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from tinyml_lsp.resources import data_dir

_SECTION = re.compile(r"^\[(system|user|repair)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    task: str
    system: Template
    user: Template
    repair: Template

    def placeholders(self) -> set[str]:
        return {name for t in (self.system, self.user) for name in t.get_identifiers()}

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The first request: system and user messages with every placeholder filled."""
        wanted = self.placeholders()
        missing, extra = wanted - set(values), set(values) - wanted
        if missing or extra:
            raise ValueError(f"prompt {self.task}: missing {sorted(missing)}, "
                             f"unused {sorted(extra)}")
        return [{"role": "system", "content": self.system.substitute(values).strip()},
                {"role": "user", "content": self.user.substitute(values).strip()}]

    def repair_message(self, problem: str) -> dict[str, str]:
        """The follow-up after a candidate failed: what went wrong, for the next round."""
        return {"role": "user", "content": self.repair.substitute(problem=problem).strip()}


def load_prompt(task: str) -> Prompt:
    text = (data_dir("prompts") / f"{task}.md").read_text()
    parts = _SECTION.split(text)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "user", "repair"}:
        raise ValueError(f"prompts/{task}.md needs [system], [user] and [repair] sections")
    return Prompt(task, Template(sections["system"]), Template(sections["user"]),
                  Template(sections["repair"]))
