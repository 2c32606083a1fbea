"""Generate fruit.csv: colour-sensor readings of apples, bananas and oranges.

The classic Nano 33 BLE Sense "fruit to emoji" case: the APDS-9960 sensor reads red, green,
blue and clear light; dividing r, g, b by their sum gives colour ratios that do not depend on
how bright the room is. Each fruit is a cloud of ratios around its typical colour, with sensor
noise and a brightness that changes the ratios a little. Seeded: the same file on every run.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# Typical (red, green, blue) ratios under indoor light, measured shapes of the public demo.
FRUITS = {
    "apple": (0.52, 0.26, 0.22),
    "banana": (0.42, 0.40, 0.18),
    "orange": (0.58, 0.30, 0.12),
}
ROWS_PER_FRUIT = 400
SEED = 7


def make_rows(rows_per_fruit: int = ROWS_PER_FRUIT, seed: int = SEED) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for name, centre in FRUITS.items():
        rgb = rng.normal(centre, 0.022, size=(rows_per_fruit, 3))
        rgb = np.clip(rgb, 0.01, None)
        rgb /= rgb.sum(axis=1, keepdims=True)  # ratios sum to 1, as the sketch computes them
        rows += [(round(r, 4), round(g, 4), round(b, 4), name) for r, g, b in rgb]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "fruit.csv")
    args = parser.parse_args()
    with args.out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["red", "green", "blue", "label"])
        writer.writerows(make_rows())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
