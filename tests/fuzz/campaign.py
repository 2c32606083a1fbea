"""A fuzzing campaign: every command on every broken input, two at a time; the outcome table.

    python -m tests.fuzz.campaign --models 400 --data 190 --seed 1     (what `make fuzz` runs)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fuzz.corpus import Case, data_cases, model_cases, project_cases, special_cases
from tests.fuzz.runner import BAD, Outcome, run, table


def campaign(folder: Path, *, models: int, data: int, seed: int,
             commands: Iterable[str] | None = None, jobs: int = 2) -> list[Outcome]:
    cases = [*model_cases(_mkdir(folder / "models"), models, seed),
             *special_cases(_mkdir(folder / "special")),
             *data_cases(_mkdir(folder / "data"), data, seed),
             *project_cases(_mkdir(folder / "projects"))]
    wanted = set(commands) if commands else None
    work = [(case, template) for case in cases for template in case.commands
            if wanted is None or template[0] in wanted]

    def one(item: tuple[int, tuple[Case, tuple[str, ...]]]) -> Outcome:
        n, (case, template) = item
        return run(case, template, _mkdir(folder / "work" / str(n)))

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, enumerate(work)))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.campaign")
    parser.add_argument("--models", type=int, default=400)
    parser.add_argument("--data", type=int, default=190)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyml-fuzz-") as tmp:
        outcomes = campaign(Path(tmp), models=args.models, data=args.data, seed=args.seed,
                            jobs=args.jobs)
    print(table(outcomes))
    bad = [o for o in outcomes if o.kind in BAD]
    for o in bad:
        print(f"{o.kind:>13}  {o.command:<9} {o.case}: {o.detail}")
    print(f"{len(outcomes)} runs, {len(bad)} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
