"""tinyml check: the classic TinyML bugs found in a sketch and its platformio.ini, from the
model's measured facts (no LSP, no terminal)."""
