"""`make llm-bench`: the fixed customization suite (benchmarks/llm_harness.py) against a real
OpenAI-compatible endpoint, on the two example projects (fruit-to-emoji: a CSV classifier;
shapes: a small CNN on images), each trained, quantized and sketched for the emulated board.

Every request is validated on the emulated board (build, run, the verdict, the task's own
check of the serial output) and counted: success, rounds, prompt/completion tokens, seconds,
cost (with TINYML_LLM_PRICE_INPUT / _OUTPUT, per million tokens), and the prompt's size. With
no endpoint configured it says so and exits 0: nothing here is ever scripted or made up.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.demo import REPO, StepContext, train_example

from benchmarks.llm_harness import TaskOutcome, render, run_task, suite

VECTORS = 20  # test vectors per project: every check sees several inferences of each class
EXAMPLES = {"fruit-to-emoji": ("fruit_model", "fruit_holdout.csv"),
            "shapes": ("shapes_model", "data")}


async def projects(work: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    from tinyml_lsp.deploy.sketch import sketch_model
    from tinyml_lsp.model.quantize import quantize_model

    ctx = StepContext()
    made = {}
    for example, (stem, data) in EXAMPLES.items():
        print(f"== preparing {example} (train, quantize, sketch)", flush=True)
        folder = train_example(example, work / example)
        q = await quantize_model(folder / f"{stem}.keras", ctx,
                                 data=folder / ("fruit.csv" if data.endswith(".csv") else data))
        sketch = await sketch_model(q.files["int8"], folder / f"{stem}_firmware", ctx,
                                    data=folder / data, vectors=VECTORS, sizes=False)
        made[example] = (Path(sketch.project), sketch.labels)
    return made


async def bench(config) -> list[TaskOutcome]:
    from tinyml_lsp.runtime.context import NullContext

    outcomes = []
    for _example, (project, labels) in (await projects(REPO / ".state" / "llm-bench")).items():
        for task in suite(labels):
            print(f"-- {project.name}: {task.name}", flush=True)
            outcome = await run_task(task, project, config, NullContext())
            print(f"   {'passed' if outcome.success else 'failed'} in {outcome.rounds} "
                  f"round(s), {outcome.seconds:.1f} s", flush=True)
            outcomes.append(outcome)
    return outcomes


def main() -> int:
    from tinyml_lsp.errors import TinymlError
    from tinyml_lsp.llm.config import HOW_TO_CONFIGURE, resolve_config

    try:
        config = resolve_config()
    except TinymlError as exc:
        print(f"llm-bench: error: {exc} ({exc.hint})", file=sys.stderr)
        return 1
    if config is None:
        print(f"llm-bench: skipped — no LLM endpoint configured ({HOW_TO_CONFIGURE}). Nothing "
              "was measured.")
        return 0
    print(f"llm-bench: endpoint {config.base_url}, model {config.model}, at most "
          f"{config.max_rounds} rounds per request")
    print(render(asyncio.run(bench(config)), config.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
