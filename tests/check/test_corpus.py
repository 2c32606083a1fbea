"""`tinyml check` on the corpus: every marked defect found with its code, line and exact
range, nothing else found, no finding on a correct sketch, and each quick fix removes its
finding without bringing another."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.check.cases import Case, load_cases
from tinyml_lsp.check.source import Source
from tinyml_lsp.check.task import CheckReport, check_path, fix_files
from tinyml_lsp.runtime.context import NullContext

CASES = load_cases()
DEFECTS = [c for c in CASES if c.expected]
CORRECT = [c for c in CASES if not c.expected]


def _check(target: Path, case: Case) -> CheckReport:
    return asyncio.run(check_path(target, NullContext(), board=case.board))


def _found(report: CheckReport, root: Path) -> set[tuple[str, int, str, str, bool]]:
    found = set()
    for f in report.findings:
        source = Source(Path(f.file).read_text())
        start = source.offset(f.range.line, f.range.col)
        end = source.offset(f.range.end_line, f.range.end_col)
        text = source.data[start:end].decode()
        found.add((str(Path(f.file).relative_to(root)), f.range.line, f.code, text,
                   f.fix is not None))
    return found


def test_the_corpus_is_as_big_as_promised():
    assert len(DEFECTS) >= 25 and len(CORRECT) >= 10
    assert all(len({e.code for e in c.expected}) == 1 for c in DEFECTS)  # one defect each


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_findings_are_exactly_the_marked_ones(case: Case, materialize: Callable[[Case], Path]):
    target = materialize(case)
    root = target if case.folder else target.parent
    expected = {(e.file, e.line, e.code, e.text, e.fix) for e in case.expected}
    report = _check(target, case)
    assert _found(report, root) == expected
    severities = {(e.line, e.code): e.severity for e in case.expected if e.severity}
    for f in report.findings:
        if (wanted := severities.get((f.range.line, f.code))) is not None:
            assert f.severity == wanted, f.render()


@pytest.mark.parametrize("case", [c for c in DEFECTS if any(e.fix for e in c.expected)],
                         ids=[c.name for c in DEFECTS if any(e.fix for e in c.expected)])
def test_each_quick_fix_removes_its_finding(case: Case, materialize: Callable[[Case], Path]):
    target = materialize(case)
    report = _check(target, case)
    assert fix_files(report)
    again = _check(target, case)
    assert [f.render() for f in again.findings] == []
