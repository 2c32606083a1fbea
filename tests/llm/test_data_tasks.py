"""The LLM tasks that need no board: adapt quantization to a script, prepare a dataset (the
script runs only once accepted, and its outputs are checked). The LLM is the scripted server."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.llm.conftest import config_for
from tests.llm_server import Reply, ScriptedLlm, fenced
from tests.support import SilentContext
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.adapt_quantize import adapt_quantize
from tinyml_lsp.llm.prepare_data import prepare_with_llm
from tinyml_lsp.model import training_script

PIPELINE_SCRIPT = '''import numpy as np
import tensorflow as tf


def make_pipeline(n):
    x = np.random.rand(n, 3).astype("float32")
    y = (x.sum(axis=1) > 1.5).astype("int64")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(16)


train_ds = make_pipeline(200)
model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_ds, epochs=2)
model.save(output_path)
'''

ADAPTED = PIPELINE_SCRIPT.replace("model.save(output_path)", '''model.save("pipeline_model.keras")

samples = []
for batch_x, _ in train_ds:
    samples.extend(batch_x.numpy())
    if len(samples) >= 300:
        break
np.savez("train_representative.npz", x=np.asarray(samples[:300], dtype=np.float32))''')


async def test_adapt_quantization_to_a_tf_data_script(llm: ScriptedLlm, tmp_path: Path):
    script = tmp_path / "train.py"
    script.write_text(PIPELINE_SCRIPT)
    before = training_script.scan(PIPELINE_SCRIPT)
    assert before is not None and not before.model_literals  # the deterministic scan is stuck
    rewritten = "import os\n" + PIPELINE_SCRIPT.replace("model.fit", "model.train")
    llm.script(Reply(fenced(rewritten, "python", "train.py"), prompt_tokens=700,
                     completion_tokens=300),
               Reply(fenced(ADAPTED, "python", chatter=True), prompt_tokens=800,
                     completion_tokens=350))
    result = await adapt_quantize(script, SilentContext(), config=config_for(llm), apply=True)
    assert [r.outcome for r in result.rounds] == ["check failed", "passed"]
    assert "not save the model" in result.rounds[0].summary
    assert result.success and result.applied == ("train.py",)
    assert result.usage.total_tokens == 2150
    after = training_script.scan(script.read_text())
    assert after is not None and after.model_literals == ("pipeline_model.keras",)
    assert "train_representative.npz" in after.data_literals  # found by "Quantize this model"
    assert "model.fit(train_ds" in llm.requests[0].prompt


async def test_a_script_the_deterministic_action_reads_needs_no_llm(llm: ScriptedLlm,
                                                                    tmp_path: Path):
    script = tmp_path / "train.py"
    script.write_text("import keras\nmodel.fit(x, y)\nmodel.save('m.keras')\n"
                      "data = load('train.csv')\n")
    with pytest.raises(TinymlError, match="no LLM needed"):
        await adapt_quantize(script, SilentContext(), config=config_for(llm))
    assert llm.requests == []


def _fruit_csv(path: Path) -> Path:
    rng = np.random.default_rng(1)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["r", "g", "b", "fruit"])
        for c, name in enumerate(["apple", "banana", "orange"]):
            for _ in range(30):  # written class by class, as recorded
                w.writerow([f"{v:.3f}" for v in rng.random(3) * 0.3 + 0.3 * c] + [name])
    return path


PREPARE_SCRIPT = '''import csv
import json

import numpy as np

OUTPUTS = {
    "fruit_train.npz": {"x": {"shape": [None, 3], "dtype": "float32"},
                        "y": {"shape": [None], "dtype": "int64"}},
    "fruit_val.npz": {"x": {"shape": [None, 3], "dtype": "float32"},
                      "y": {"shape": [None], "dtype": "int64"}},
    "fruit_representative.npz": {"x": {"shape": [None, 3], "dtype": "float32"}},
}
SPLITS = ["fruit_train.npz", "fruit_val.npz"]

with open("fruit.csv", newline="") as f:
    rows = list(csv.reader(f))[1:]
classes = sorted({r[3] for r in rows})
x = np.array([[float(v) for v in r[:3]] for r in rows], dtype=np.float32)
y = np.array([classes.index(r[3]) for r in rows], dtype=np.int64)
rng = np.random.default_rng(0)
val = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:6] for c in range(3)])
train = np.setdiff1d(np.arange(len(x)), val)
mean, std = x[train].mean(axis=0), x[train].std(axis=0)
x = (x - mean) / std
np.savez("fruit_train.npz", x=x[train], y=y[train])
np.savez("fruit_val.npz", x=x[val], y=y[val])
np.savez("fruit_representative.npz", x=x[train][:60])
json.dump({"mean": mean.tolist(), "std": std.tolist()}, open("fruit_norm.json", "w"))
print("wrote", SPLITS)
'''


async def test_prepare_with_the_llm_runs_only_once_accepted(llm: ScriptedLlm, tmp_path: Path):
    data = _fruit_csv(tmp_path / "fruit.csv")
    llm.script(Reply(fenced(PREPARE_SCRIPT, "python", "prepare_fruit.py"), prompt_tokens=900,
                     completion_tokens=600))
    offered = await prepare_with_llm(data, "normalise and keep 20% for validation",
                                     SilentContext(), config=config_for(llm))
    assert offered.success and not offered.ran and offered.edit.changes[0].created
    assert not (tmp_path / "prepare_fruit.py").exists()  # shown, not written, not run
    assert not (tmp_path / "fruit_train.npz").exists()
    prompt = llm.requests[0].prompt
    assert "class balance: apple 30" in prompt and "grouped by class" in prompt  # the facts

    llm.script(Reply(fenced(PREPARE_SCRIPT, "python", "prepare_fruit.py")))
    done = await prepare_with_llm(data, "normalise and keep 20% for validation",
                                  SilentContext(), config=config_for(llm), apply=True,
                                  cache=False)
    assert done.ran and done.success and done.check is not None and done.check.ok
    assert done.check.arrays["fruit_val.npz"]["x"] == [[18, 3], "float32"]


async def test_prepared_outputs_that_break_their_promise_are_reported(llm: ScriptedLlm,
                                                                      tmp_path: Path):
    data = _fruit_csv(tmp_path / "fruit.csv")
    leaky = PREPARE_SCRIPT.replace("train = np.setdiff1d(np.arange(len(x)), val)",
                                   "train = np.arange(len(x))")  # validation rows in training
    llm.script(Reply(fenced(leaky, "python", "prepare_fruit.py")))
    done = await prepare_with_llm(data, "split", SilentContext(), config=config_for(llm),
                                  apply=True)
    assert done.ran and not done.success
    assert "share 18 sample(s)" in (done.problem or "")


async def test_a_script_importing_what_is_not_there_goes_back(llm: ScriptedLlm, tmp_path: Path):
    data = _fruit_csv(tmp_path / "fruit.csv")
    llm.script(Reply(fenced("import pandas as pd\n" + PREPARE_SCRIPT, "python")),
               Reply("I cannot do that without pandas."))
    result = await prepare_with_llm(data, "split", SilentContext(), config=config_for(llm))
    assert not result.success
    assert [r.outcome for r in result.edit.rounds] == ["check failed", "no code"]
    assert "imports pandas" in llm.requests[1].messages[-1]["content"]
