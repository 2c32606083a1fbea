"""Train the fruit classifier: three colour ratios → apple / banana / orange.

Writes fruit_model.keras, and fruit_holdout.csv with the rows kept out of training (for `tinyml
verify --data fruit_holdout.csv`) and fruit_holdout_readings.csv with the sensor readings they
were computed from (to replay through an emulated APDS-9960). Classes are numbered in sorted
order of their names (apple=0, banana=1, orange=2), the convention tinyml-lsp's dataset reader
follows too.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CLASSES = ["apple", "banana", "orange"]


def load(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    x = np.array([[float(v) for v in r[:3]] for r in body], dtype=np.float32)
    y = np.array([CLASSES.index(r[3]) for r in body])
    return header, x, y


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    header, x, y = load(HERE / "fruit.csv")
    n_train = int(len(x) * 0.8)
    x_train, y_train, x_hold, y_hold = x[:n_train], y[:n_train], x[n_train:], y[n_train:]

    model = keras.Sequential([
        keras.Input(shape=(3,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_hold, y_hold, verbose=0)
    print(f"held-out accuracy {accuracy:.3f}")

    model.save(HERE / "fruit_model.keras")

    with (HERE / "fruit_holdout.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row, label in zip(x_hold, y_hold, strict=True):
            writer.writerow([*map(float, row), CLASSES[label]])

    with (HERE / "fruit_readings.csv").open(newline="") as f:
        readings = list(csv.reader(f))  # the same rows as fruit.csv, in the same order
    with (HERE / "fruit_holdout_readings.csv").open("w", newline="") as f:
        csv.writer(f).writerows([readings[0], *readings[1 + n_train:]])


if __name__ == "__main__":
    main()
