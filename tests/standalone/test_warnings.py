"""Every generated source compiles without a single warning (-Wall -Wextra -Werror), for this
machine and for the Cortex-M4 (as the firmware builds it): the shared models, the benchmark
twins and the whole zoo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.standalone import zoo
from tests.standalone.guard import SHARED
from tests.standalone.test_zoo import FAST_SEEDS, SLOW_SEEDS
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.codegen.standalone.sizes import ARM_GCC, CPU_FLAGS

STRICT = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-c")
BUILDS = {"host": ("gcc", "-O2"), "cortex-m4": (ARM_GCC, "-Os", *CPU_FLAGS)}


def _write_sources(models: dict[str, Path], root: Path) -> list[str]:
    sources = []
    for name, path in models.items():
        gen = generate(path)
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "model.h").write_text(gen.header)
        (folder / "model.c").write_text(gen.source)
        sources.append(str(folder / "model.c"))
    return sources


@pytest.mark.slow
@pytest.mark.skipif(shutil.which(ARM_GCC) is None, reason=f"{ARM_GCC} is not installed")
def test_generated_c_is_warning_free(twins, tmp_path):
    models = {n: MODELS / f"{n}.tflite" for n in SHARED if (MODELS / f"{n}.tflite").exists()}
    models.update(twins)
    for kind in zoo.CASES:
        for seed in (*FAST_SEEDS, *SLOW_SEEDS):
            name, model, _ = zoo.case(kind, seed)
            models[name] = tmp_path / f"{name}.tflite"
            models[name].write_bytes(model)
    sources = _write_sources(models, tmp_path / "src")
    # both compilers at once (one process each), every source in one invocation
    builds = {target: subprocess.Popen([*flags[:2], *STRICT, *flags[2:], *sources],
                                       cwd=tmp_path, stderr=subprocess.PIPE, text=True)
              for target, flags in BUILDS.items()}
    for target, proc in builds.items():
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{target}: {err[:3000]}"
    assert len(sources) == len(SHARED) + len(twins) + len(zoo.CASES) * 30
