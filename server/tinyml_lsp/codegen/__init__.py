"""Code generation: C arrays, inference sketches, the standalone C runtime."""
