"""Run one command of `tinyml` on one broken input and judge the outcome.

The rule for every command: exit 0 with a result that is right (validate bit-exact, a sketch
that builds), or exit 1 with one line on stderr naming the input — never a hang, never an
"internal error", never a modified input.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.corpus import Case

OUTCOMES = ("ok", "error", "hang", "internal", "wrong", "modified", "unclear-error")
BAD = {"hang", "internal", "wrong", "modified", "unclear-error"}


@dataclass(frozen=True)
class Outcome:
    case: str
    command: str
    kind: str  # one of OUTCOMES
    detail: str


def _fingerprint(path: Path) -> str:
    if path.is_symlink() or not path.exists():
        return "link" if path.is_symlink() else "absent"
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.rglob("*")
                                        if ".pio" not in p.parts))
    if not path.is_file():
        return "special"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(case: Case, template: tuple[str, ...], work: Path, timeout: float = 90) -> Outcome:
    out = work / "out"
    args = [a.format(path=case.path, out=out) for a in template]
    command = args[0]
    before = _fingerprint(case.path)
    proc = subprocess.Popen([sys.executable, "-m", "tinyml_lsp.cli", *args], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(case.name, command, "hang", f"no answer within {timeout:.0f} s")
    if _fingerprint(case.path) != before:
        return Outcome(case.name, command, "modified", "the input changed")
    lines = stderr.strip().splitlines()
    if proc.returncode not in (0, 1) or "internal error" in stderr or "Traceback" in stderr:
        return Outcome(case.name, command, "internal", (lines or ["?"])[-1][:300])
    if proc.returncode == 1:
        error = lines[-1] if lines else ""
        named = str(case.path) in error or str(case.path.name) in error
        details_ok = all(":" in line for line in lines[:-1])  # compiler diagnostics only
        if error.startswith("error: ") and named and details_ok:
            return Outcome(case.name, command, "error", error[:300])
        return Outcome(case.name, command, "unclear-error", stderr.strip()[-300:])
    return _judge_success(case, command, stdout, out, work)


def _judge_success(case: Case, command: str, stdout: str, out: Path, work: Path) -> Outcome:
    """Exit 0: is what the command says right?"""
    if command == "inspect":
        card = json.loads(stdout)
        if card["weight_bytes"] > card["size_bytes"]:
            return Outcome(case.name, command, "wrong", f"{card['weight_bytes']:,} weight bytes "
                           f"in a {card['size_bytes']:,}-byte file")
    elif command == "validate":
        report = json.loads(stdout)
        if not report["ok"]:
            return Outcome(case.name, command, "wrong", "exit 0 but not bit-exact")
        if case.path.suffix != ".tflite":  # data cases are all broken: success is wrong
            return Outcome(case.name, command, "wrong", "accepted broken data")
    elif command == "verify" and case.path.suffix != ".tflite":
        return Outcome(case.name, command, "wrong", "accepted broken data")
    elif command == "sketch":
        build = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "build", str(out)],
                               cwd=work, capture_output=True, text=True, timeout=300)
        if build.returncode != 0:
            return Outcome(case.name, command, "wrong", "the sketch does not build: " +
                           build.stderr.strip()[-200:])
    elif command == "build":
        return Outcome(case.name, command, "wrong", "a broken project built")
    return Outcome(case.name, command, "ok", "")


def table(outcomes: list[Outcome]) -> str:
    """Outcomes per command, as `make fuzz` prints them."""
    counts: dict[str, Counter[str]] = {}
    for o in outcomes:
        counts.setdefault(o.command, Counter())[o.kind] += 1
    rows = [("command", *OUTCOMES)] + [(c, *(str(n[k]) for k in OUTCOMES))
                                       for c, n in sorted(counts.items())]
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) if i else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(r, width, strict=True)))
                     for r in rows)
