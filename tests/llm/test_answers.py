"""Reading code out of answers, and refusing edits that leave the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyml_lsp.llm.answers import AnswerError, files_in
from tinyml_lsp.llm.edits import RefusedEdit, apply_changes, propose

MAIN = ("src/main.c",)


@pytest.mark.parametrize("answer", [
    "FILE: src/main.c\n```c\nint main(void) { return 0; }\n```",
    "Here you go:\n\n**src/main.c**\n\n```c\nint main(void) { return 0; }\n```\nDone.",
    "```c src/main.c\nint main(void) { return 0; }\n```",
    "### `src/main.c`\n```\nint main(void) { return 0; }\n```",
    "Sure.\n```c\nint main(void) { return 0; }\n```\nThen run:\n```sh\ntinyml build .\n```",
])
def test_the_code_amid_chatter(answer: str):
    assert files_in(answer, MAIN) == {"src/main.c": "int main(void) { return 0; }\n"}


def test_answers_that_cannot_be_used():
    with pytest.raises(AnswerError, match="no code block"):
        files_in("I would add a printf after the inference.", MAIN)
    with pytest.raises(AnswerError, match="cut off"):
        files_in("FILE: src/main.c\n```c\nint main(void) {\n", MAIN)
    with pytest.raises(AnswerError, match="names no file"):
        files_in("```c\nint a;\n```\n```c\nint b;\n```", MAIN)


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.c", "src/../../outside.c",
                                  "C:\\Windows\\x.c", "~/.bashrc", "src/link/escape.c"])
def test_paths_outside_the_workspace_are_refused(tmp_path: Path, path: str):
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "link").symlink_to(tmp_path)  # a symlink that leads out
    with pytest.raises(RefusedEdit, match="refused"):
        propose(root, {path: "x\n"}, MAIN)
    assert not (tmp_path / "outside.c").exists() and not (tmp_path / "escape.c").exists()


def test_only_the_offered_files_change(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.c").write_text("old\n")
    with pytest.raises(RefusedEdit, match=r"only src/main\.c may change"):
        propose(tmp_path, {"src/model.c": "x\n"}, MAIN)
    [change] = propose(tmp_path, {"./src/main.c": "new\n"}, MAIN)
    assert change.diff() == "--- a/src/main.c\n+++ b/src/main.c\n@@ -1 +1 @@\n-old\n+new\n"
    (tmp_path / "src" / "main.c").write_text("edited meanwhile\n")
    with pytest.raises(Exception, match="changed since"):
        apply_changes([change])
    assert (tmp_path / "src" / "main.c").read_text() == "edited meanwhile\n"
