"""tinyml-lsp: an IDE assistant that takes a machine-learning model onto a microcontroller."""

__version__ = "0.1.0"
