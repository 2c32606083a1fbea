"""Proposed file changes: checked against the workspace, shown as a unified diff, written only
when the user says so (`--apply`, or the editor's accept of the WorkspaceEdit the LSP face
builds from the same values).

A path the answer names must stay inside the workspace: an absolute path, a `..` that climbs
out, or a symlink that leads out is refused, and so is any file the task did not offer.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.answers import AnswerError


class RefusedEdit(AnswerError):
    """The answer writes where it may not: outside the workspace, or a file not offered."""


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the root, POSIX
    absolute: str
    old: str | None  # None: a new file
    new: str

    @property
    def created(self) -> bool:
        return self.old is None

    def diff(self) -> str:
        old = [] if self.old is None else self.old.splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, "/dev/null" if self.old is None
                                     else f"a/{self.path}", f"b/{self.path}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of "
                       "file\n" for line in lines)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "absolute": self.absolute, "created": self.created,
                "diff": self.diff()}


def inside(root: Path, named: str) -> Path:
    """The file `named` (relative to `root`) as an absolute path, or an AnswerError when it
    leads outside `root` (absolute, `..`, a symlink out)."""
    text = named.strip().strip("`'\"")
    if (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute()
            or PureWindowsPath(text).drive or text.startswith("~")):
        raise RefusedEdit(f"the answer writes {text}, an absolute path outside the workspace: "
                          "refused")
    relative = PurePosixPath(text.replace("\\", "/"))
    if ".." in relative.parts:
        raise RefusedEdit(f"the answer writes {text}, which climbs out of the workspace: "
                          "refused")
    real_root = root.resolve()
    target = (real_root / relative).resolve()
    if not target.is_relative_to(real_root):
        raise RefusedEdit(f"the answer writes {text}, which leads outside the workspace "
                          "through a symlink: refused")
    return target


def propose(root: Path, files: dict[str, str], editable: tuple[str, ...]) -> list[FileChange]:
    """Changes for the files an answer gives: each inside `root` and one of `editable`
    (paths relative to `root`); files whose text did not change are left out."""
    real_root = root.resolve()
    allowed = {(real_root / e).resolve() for e in editable}
    changes = []
    for named, text in files.items():
        target = inside(root, named)
        if target not in allowed:
            raise RefusedEdit(f"the answer changes {named}, but only "
                              f"{', '.join(editable)} may change: refused")
        old = target.read_text() if target.is_file() else None
        if text != old:
            changes.append(FileChange(target.relative_to(real_root).as_posix(), str(target),
                                      old, text))
    return changes


def render_diff(changes: list[FileChange]) -> str:
    return "".join(c.diff() for c in changes)


def apply_changes(changes: list[FileChange]) -> list[str]:
    """Write the changes (each file atomically, after checking it did not change meanwhile)."""
    for c in changes:
        path = Path(c.absolute)
        current = path.read_text() if path.is_file() else None
        if current != c.old:
            raise TinymlError("the file changed since the LLM's candidate was made; nothing "
                              "was written", path, hint="run the task again")
    written = []
    for c in changes:
        path = Path(c.absolute)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tinyml-tmp")
        tmp.write_text(c.new)
        os.replace(tmp, path)
        written.append(c.path)
    return written
