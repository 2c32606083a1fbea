"""The pinned third-party Arduino libraries sketches build against, and where to find them.

On a user's machine the generated `platformio.ini` names each library by git URL and commit
and PlatformIO fetches it. Where the sources are already on disk (this machine: no git host is
reachable) one setting points builds at them: `TINYML_THIRD_PARTY`, a folder holding one
sub-folder per library; its default is `third_party/` of `TINYML_SHARED`, then
`../shared/third_party` beside a source checkout, when that exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.errors import TinymlError

SETTING = "TINYML_THIRD_PARTY"


@dataclass(frozen=True)
class Library:
    folder: str  # sub-folder of the third-party root, and the library's name
    url: str  # its git repository
    commit: str
    version: str
    header: str  # the header a sketch includes

    @property
    def lib_dep(self) -> str:
        """The `lib_deps` entry that makes PlatformIO fetch exactly this commit."""
        return f"{self.url}#{self.commit}"


TFLITE_MICRO = Library(
    "Arduino_TensorFlowLite", "https://github.com/tensorflow/tflite-micro-arduino-examples.git",
    "7948b85e020470a30a83bf00e10fc43b486bfcba", "2.4.0-ALPHA (tflite-micro of 2023-02-27)",
    "TensorFlowLite.h")
ARDUINO_CORE_API = Library(
    "ArduinoCore-API", "https://github.com/arduino/ArduinoCore-API.git",
    "cd91833d90b4fe50e428021ba5051e2b7ceafc84", "1.5.2", "api/ArduinoAPI.h")
APDS9960 = Library(
    "Arduino_APDS9960", "https://github.com/arduino-libraries/Arduino_APDS9960.git",
    "58169581b582445e3143891217eb91573d691a6a", "1.0.4", "Arduino_APDS9960.h")
LIBRARIES = (TFLITE_MICRO, ARDUINO_CORE_API, APDS9960)


def root() -> Path | None:
    """The folder of local library sources, or None when there is none."""
    if given := os.environ.get(SETTING):
        return Path(given).expanduser()
    candidates = []
    if shared := os.environ.get("TINYML_SHARED"):
        candidates.append(Path(shared) / "third_party")
    # a source checkout: server/tinyml_lsp/deploy/ -> the repository -> its sibling shared/
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "third_party")
    return next((c for c in candidates if c.is_dir()), None)


def local(library: Library) -> Path | None:
    """The library's local sources, if this machine has them."""
    base = root()
    path = base / library.folder if base else None
    return path if path is not None and path.is_dir() else None


def require(library: Library) -> Path:
    """The library's local sources, or an error naming the setting that points at them."""
    if path := local(library):
        return path
    base = root()
    where = f"{base / library.folder} does not exist" if base else "no third-party folder is set"
    raise TinymlError(
        f"the {library.folder} library ({library.version}) is needed here and {where}",
        str(base or SETTING),
        hint=f"set {SETTING} to a folder holding {library.folder}/ (a checkout of {library.url} "
             f"at {library.commit[:12]}), or build on a machine that can fetch it")
