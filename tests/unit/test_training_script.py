"""Finding the save/fit lines, the model and the data in a training script."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES
from tinyml_lsp.model import training_script

SCRIPT = """\
import numpy as np
import keras  # the model
x = np.load("data/x.npy")
np.save("cache.npy", x)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.fit(x, y, epochs=3)
# model.save("commented.keras")
model.save(HERE / "net.keras")
"""


def test_sites_and_literals() -> None:
    s = training_script.scan(SCRIPT)
    assert s is not None
    assert [(site.line, site.call) for site in s.sites] == [(5, "fit"), (7, "save")]
    assert s.model_literals == ("net.keras",)
    assert s.data_literals == ("data/x.npy", "cache.npy")


def test_not_a_keras_script() -> None:
    assert training_script.scan("import numpy as np\nnp.save('a.npy', 1)\n") is None
    assert training_script.scan("import keras\nprint('no training here')\n") is None


def test_resolution_relative_to_the_script(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.npy").write_bytes(b"")
    script = tmp_path / "train.py"
    s = training_script.scan(SCRIPT)
    assert training_script.resolve_model(s, script, None) is None
    assert training_script.expected_model(s, script) == tmp_path / "net.keras"
    (tmp_path / "net.keras").write_bytes(b"")
    assert training_script.resolve_model(s, script, None) == tmp_path / "net.keras"
    assert training_script.resolve_data(s, script, None) == tmp_path / "data" / "x.npy"


def test_the_examples_are_recognised() -> None:
    for name, data in (("fruit-to-emoji", "fruit.csv"), ("shapes", None)):
        s = training_script.scan((EXAMPLES / name / "train.py").read_text())
        assert s is not None and {site.call for site in s.sites} == {"fit", "save"}
        if data:
            assert s.data_literals[0] == data
