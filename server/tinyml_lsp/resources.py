"""Find the files shipped beside the package: snippets/ and prompts/.

A wheel carries them as `tinyml_lsp/_data/...` (hatchling force-include); an editable install
or a source checkout finds them at the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ is missing from this installation of tinyml-lsp")


def snippet(name: str) -> str:
    return (data_dir("snippets") / name).read_text()


def platform_dir(name: str = "tinyml-qemu") -> Path:
    """A local PlatformIO platform shipped with the package (top-level `platforms/`)."""
    path = data_dir("platforms") / name
    if not (path / "platform.json").is_file():
        raise FileNotFoundError(f"platforms/{name}/ is missing from this tinyml-lsp installation")
    return path
