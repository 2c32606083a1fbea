"""Generate the colour-sensor readings of apples, bananas and oranges, and their features.

The classic Nano 33 BLE Sense "fruit to emoji" case: the APDS-9960 sensor reads red, green,
blue and clear light as raw counts (fruit_readings.csv); the model's inputs are colour ratios
that do not depend on how bright the room is, computed from each reading as features.toml
defines them (fruit.csv) — the definition the board's sketch is generated from too. Each fruit
is a cloud of ratios around its typical colour, with sensor noise, seen at a random brightness.
Seeded: the same files on every run.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from tinyml_lsp.model.features import load_features

HERE = Path(__file__).resolve().parent
# Typical (red, green, blue) ratios under indoor light, measured shapes of the public demo.
FRUITS = {
    "apple": (0.52, 0.26, 0.22),
    "banana": (0.42, 0.40, 0.18),
    "orange": (0.58, 0.30, 0.12),
}
CHANNELS = ("red", "green", "blue", "clear")  # a reading, as readColor(r, g, b, c) gives it
ROWS_PER_FRUIT = 400
SEED = 7


def make_readings(rows_per_fruit: int = ROWS_PER_FRUIT, seed: int = SEED) -> list[tuple]:
    """(red, green, blue, clear, fruit): the raw counts the sensor gives, in random order."""
    rng = np.random.default_rng(seed)
    light = np.random.default_rng(seed + 1)  # brightness: a stream of its own
    rows = []
    for name, centre in FRUITS.items():
        rgb = rng.normal(centre, 0.022, size=(rows_per_fruit, 3))
        rgb = np.clip(rgb, 0.01, None)
        rgb /= rgb.sum(axis=1, keepdims=True)
        total = light.uniform(300, 3000, size=(rows_per_fruit, 1))  # counts of r + g + b
        counts = np.rint(rgb * total).astype(int)
        clear = np.rint(counts.sum(axis=1) * light.uniform(1.05, 1.2, size=rows_per_fruit))
        rows += [(*map(int, c), int(k), name) for c, k in zip(counts, clear, strict=True)]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "fruit.csv")
    parser.add_argument("--readings", type=Path, default=HERE / "fruit_readings.csv")
    args = parser.parse_args()
    features = load_features(HERE / "features.toml")
    readings = make_readings()
    counts = np.array([r[:-1] for r in readings], dtype=np.float32)
    x = features.evaluate(counts[:, [CHANNELS.index(c) for c in features.reading]])
    with args.readings.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*CHANNELS, "label"])
        writer.writerows(readings)
    with args.out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*features.names, "label"])
        writer.writerows([*map(float, row), r[-1]] for row, r in zip(x, readings, strict=True))
    print(f"wrote {args.readings} and {args.out}")


if __name__ == "__main__":
    main()
