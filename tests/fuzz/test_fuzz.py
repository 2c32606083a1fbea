"""A small seeded fuzzing campaign (`make fuzz` runs a large one): broken models, datasets,
projects and special files through every command — each ends in a right result or one clear
error line, never a hang, an internal error or a modified input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.campaign import campaign
from tests.fuzz.runner import BAD, table


@pytest.mark.slow
def test_broken_inputs(tmp_path: Path) -> None:
    outcomes = campaign(tmp_path, models=21, data=19, seed=7,
                        commands=("inspect", "verify", "validate", "sketch", "build"))
    bad = [o for o in outcomes if o.kind in BAD]
    assert not bad, table(outcomes) + "\n" + "\n".join(
        f"{o.kind} {o.command} {o.case}: {o.detail}" for o in bad)
    # the corpus exercises both sides of the rule
    kinds = {o.kind for o in outcomes}
    assert {"ok", "error"} <= kinds and len(outcomes) > 100
