"""The file formats and conventions every task shares: Keras models, datasets, label columns,
pixel ranges.

Plain constants, no numpy: the language server's code-action scan and the CLI's parser read
them without loading the data stack. `datasets` implements the dataset conventions.
"""

from __future__ import annotations

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")  # and a SavedModel folder

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
ARRAY_SUFFIXES = (".npy", ".npz")
# a dataset file, as a training script names it (an image folder is recognised by its content)
DATA_SUFFIXES = (".csv", ".tsv", *ARRAY_SUFFIXES, *IMAGE_SUFFIXES)

# a CSV column with one of these names (any case) holds the labels, unless told otherwise
LABEL_COLUMN_NAMES = ("label", "labels", "class", "target", "y", "category")

# image pixels are scaled to one of these ranges, or read as the model's int8 input itself
PIXEL_RANGES = {"0-255": (0.0, 255.0), "0-1": (0.0, 1.0), "-1-1": (-1.0, 1.0)}
RAW_INT8 = "int8"
PIXEL_RANGE_CHOICES = (*PIXEL_RANGES, RAW_INT8)
DEFAULT_PIXEL_RANGE = "0-255"  # as Keras' image loader
