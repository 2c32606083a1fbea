"""Read the code out of an LLM's answer, whatever chatter surrounds it.

The one format every prompt asks for: each changed file whole, in a fenced block, named on
the line before it:

    FILE: src/main.c
    ```c
    ...the whole new file...
    ```

Models drift from it, so the reader also takes the path from the fence's info string
(```` ```c src/main.c ````), from a heading or a bold or backticked name just above the
fence, and — when exactly one file may change and the answer has exactly one code block —
takes that block for that file. Anything else ambiguous, no code at all, or a fence that never
closes (an answer cut off at max_tokens) is an `AnswerError` saying what was wrong, which the
repair loop sends back to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMAT = ("Answer with the complete new content of each file you change, each in a fenced code "
          "block with the file's path on the line before it:\n\nFILE: <path>\n```<language>\n"
          "<the whole file>\n```")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_LABELLED = re.compile(r"^\s*(?:FILE|File|file|PATH|Path|path)\s*[:=]\s*`?(?P<path>[^\s`]+)`?\s*$")
_DECORATED = re.compile(r"^\s*(?:#{1,6}\s+|\*\*|`)+(?P<path>[^\s`*]+)[`*:]*\s*$")
_NON_CODE = {"", "text", "txt", "output", "console", "shell", "sh", "bash", "diff", "json"}


def _path_like(word: str) -> bool:
    """A file path rather than a language name: it has a folder or an extension."""
    return "/" in word or "\\" in word or re.search(r"[\w-]\.\w+$", word) is not None


class AnswerError(Exception):
    """The answer cannot be used as it is; the message says why, for the model and the user."""


@dataclass(frozen=True)
class Block:
    path: str | None  # as the answer names it
    lang: str
    text: str


def blocks(answer: str) -> list[Block]:
    """Every fenced block of `answer`, with the path it names, if any."""
    lines = answer.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        end = next((j for j in range(i + 1, len(lines))
                    if lines[j].strip().startswith(fence[0] * len(fence))
                    and lines[j].strip().strip(fence[0]) == ""), None)
        if end is None:
            raise AnswerError("the answer ends inside a code block (cut off: raise max_tokens, "
                              "or ask for less)")
        words = info.replace(":", " ").replace("=", " ").split()
        path = words[-1] if words and _path_like(words[-1]) else None
        lang = words[0] if words and not _path_like(words[0]) else ""
        for k in (i - 1, i - 2):  # the line above (a blank line may separate them)
            if path is not None or k < 0:
                break
            if (nm := _LABELLED.match(lines[k])) or (
                    (nm := _DECORATED.match(lines[k])) and _path_like(nm["path"])):
                path = nm["path"]
            elif lines[k].strip():
                break
        found.append(Block(path, lang.lower(), "\n".join(lines[i + 1:end]).rstrip("\n") + "\n"))
        i = end + 1
    return found


def files_in(answer: str, editable: tuple[str, ...]) -> dict[str, str]:
    """{path as named: new text} from an answer; `editable` are the files the task lets the
    model change (relative paths), used when the answer does not name its one file."""
    found = blocks(answer)
    code = [b for b in found if b.path is not None or b.lang not in _NON_CODE]
    if not code:
        raise AnswerError("the answer holds no code block")
    named = [b for b in code if b.path is not None]
    if not named:
        if len(code) == 1 and len(editable) == 1:
            return {editable[0]: code[0].text}
        raise AnswerError(f"the answer has {len(code)} code blocks and names no file")
    result: dict[str, str] = {}
    for b in named:
        assert b.path is not None
        if b.path in result and result[b.path] != b.text:
            raise AnswerError(f"the answer gives {b.path} twice, differently")
        result[b.path] = b.text
    return result
