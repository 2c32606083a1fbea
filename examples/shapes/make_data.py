"""Generate data/<shape>/*.png: small grayscale images of circles, squares and triangles.

Each image is 32×32, a light shape of random size, position and rotation on a dark, noisy
background — the kind of thing a camera on a microcontroller sees. Seeded: the same images on
every run. One subfolder per class, the layout `tinyml quantize --data data/` reads.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 32
SHAPES = ("circle", "square", "triangle")
PER_CLASS = 200
SEED = 11


def draw(shape: str, rng: np.random.Generator) -> Image.Image:
    img = Image.new("L", (SIZE, SIZE), int(rng.integers(0, 60)))
    d = ImageDraw.Draw(img)
    r = rng.uniform(6, 12)
    cx, cy = rng.uniform(r + 1, SIZE - r - 1, size=2)
    fill = int(rng.integers(170, 256))
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        corners = 4 if shape == "square" else 3
        turn = rng.uniform(0, 2 * math.pi)
        d.polygon([(cx + r * math.cos(turn + 2 * math.pi * k / corners),
                    cy + r * math.sin(turn + 2 * math.pi * k / corners))
                   for k in range(corners)], fill=fill)
    noise = rng.normal(0, 8, size=(SIZE, SIZE))
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) + noise, 0, 255)
                           .astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    for shape in SHAPES:
        folder = args.out / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(args.per_class):
            draw(shape, rng).save(folder / f"{shape}_{i:03d}.png")
    print(f"wrote {len(SHAPES) * args.per_class} images under {args.out}")


if __name__ == "__main__":
    main()
