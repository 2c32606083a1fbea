"""Train a small CNN on data/: 32×32 grayscale → circle / square / triangle.

Saves shapes_model.keras. The model takes raw pixels (0..255) and rescales them itself, so
the same images work for training, quantization (`tinyml quantize --data data`) and the board.
Its layers — convolution, max pooling, flatten, dense, softmax — are the ops a
microcontroller vision model is made of.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SHAPES = ("circle", "square", "triangle")  # sorted: the class order tinyml-lsp also uses


def load(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for label, shape in enumerate(SHAPES):
        for f in sorted((folder / shape).glob("*.png")):
            xs.append(np.asarray(Image.open(f), dtype=np.float32)[..., None])
            ys.append(label)
    return np.stack(xs), np.array(ys)


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    x, y = load(HERE / "data")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_train = int(len(x) * 0.8)

    model = keras.Sequential([
        keras.Input(shape=(32, 32, 1)),
        keras.layers.Rescaling(1 / 255.0),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(len(SHAPES), activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:n_train], y[:n_train], epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[n_train:], y[n_train:], verbose=0)
    print(f"held-out accuracy {accuracy:.3f}")
    model.save(HERE / "shapes_model.keras")


if __name__ == "__main__":
    main()
